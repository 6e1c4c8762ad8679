/* Rendering plots with gnuplot (gnuplot-nox): scripts live in plots/, data and
 * images in the run folder. Variables are passed with -e, so scripts also run by
 * hand: gnuplot -e "datafile='...'; outfile='...'" plots/x.gp */
#ifndef QB_GNUPLOT_H
#define QB_GNUPLOT_H

#include <stddef.h>

#include "qb_error.h"

/* Runs `gnuplot -e "datafile='DATA'; outfile='OUT'" plots/SCRIPT` (no shell).
 * Fails with a clear message when gnuplot is missing or exits non-zero. */
int qb_gnuplot_render(const char* script_name, const char* datafile, const char* outfile,
                      qb_error* err);

/* As qb_gnuplot_render, with more variable assignments appended to the -e text
 * ("title='x'; n=3"; NULL for none) and plotsdir set to qb_plots_dir(), so scripts
 * can load shared snippets. Text values must go through qb_gnuplot_quote. */
int qb_gnuplot_render_vars(const char* script_name, const char* datafile, const char* outfile,
                           const char* extra_vars, qb_error* err);

/* Copies text into buf for use inside a single-quoted gnuplot string: quotes and
 * backslashes become spaces / slashes (labels only, never paths). */
void qb_gnuplot_quote(const char* text, char* buf, size_t size);

/* The folder holding the gnuplot scripts: $QB_PLOTS_DIR, else the source tree's plots/. */
const char* qb_plots_dir(void);

#endif
