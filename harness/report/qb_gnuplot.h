/* Rendering plots with gnuplot (gnuplot-nox): scripts live in plots/, data and
 * images in the run folder. Variables are passed with -e, so scripts also run by
 * hand: gnuplot -e "datafile='...'; outfile='...'" plots/x.gp */
#ifndef QB_GNUPLOT_H
#define QB_GNUPLOT_H

#include "qb_error.h"

/* Runs `gnuplot -e "datafile='DATA'; outfile='OUT'" plots/SCRIPT` (no shell).
 * Fails with a clear message when gnuplot is missing or exits non-zero. */
int qb_gnuplot_render(const char* script_name, const char* datafile, const char* outfile,
                      qb_error* err);

/* The folder holding the gnuplot scripts: $QB_PLOTS_DIR, else the source tree's plots/. */
const char* qb_plots_dir(void);

#endif
