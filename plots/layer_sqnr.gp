# Per-layer SQNR across qconfigs as a heatmap (rows: qconfigs, columns: layers;
# colour and the number in each cell: SQNR in dB). Written by qbench report.
# Data (tab-separated): "col row sqnr" triples. Tick labels (layer and qconfig
# names) come from `ticsfile`, a gnuplot file of `set xtics (...)` / `set ytics (...)`.
# Variables: datafile, outfile, plotsdir, ticsfile, title, ncols, nrows.
if (!exists("plotsdir")) plotsdir = "plots"
if (!exists("title")) title = "per-layer SQNR"
if (!exists("ncols")) ncols = 4
if (!exists("nrows")) nrows = 4
width = 330 + 110 * ncols; height = 220 + 34 * nrows
if (width < 900) width = 900
load plotsdir."/qb_terminal.gp"
unset grid
set title title
set xlabel "layer"
set cblabel "SQNR (dB, higher is better)"
set palette defined (0 "#b2182b", 0.5 "#fddbc7", 1 "#2166ac")
set xrange [-0.5:ncols-0.5]
set yrange [nrows-0.5:-0.5]
set tics scale 0
if (exists("ticsfile")) { load ticsfile }
set xtics rotate by -30 left
set bmargin 7
plot datafile using 1:2:3 with image notitle, \
     datafile using 1:2:(sprintf("%.1f", $3)) with labels font ",8" notitle
