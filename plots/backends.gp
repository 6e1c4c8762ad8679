# Backend comparison: end-to-end speed-up of each backend over the scalar reference
# for one model (geometric mean over the qconfigs measured on both; error bars span
# the smallest to the largest speed-up). Written by qbench report.
# Data (tab-separated): "row backend gmean min max n".
# Variables: datafile, outfile, plotsdir, title.
if (!exists("plotsdir")) plotsdir = "plots"
if (!exists("title")) title = "speed-up over scalar"
width = 900; height = 550
load plotsdir."/qb_terminal.gp"
set title title
set ylabel "speed-up over scalar (x, higher is better)"
set style fill solid 0.7 border -1
set boxwidth 0.6
set grid ytics
set grid noxtics
set yrange [0:*]
set offsets 0.5, 0.5, graph 0.1, 0
set xtics nomirror
plot datafile using 1:3:xticlabels(2) with boxes lc rgb "#4477aa" notitle, \
     '' using 1:3:4:5 with yerrorbars lc rgb "#222222" pt -1 notitle, \
     '' using 1:5:(sprintf("%.2fx (n=%d)", $3, $6)) with labels offset 0,1 notitle
