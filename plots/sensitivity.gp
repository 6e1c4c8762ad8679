# Sensitivity: drop of the task metric (pp) with only one layer quantized, per layer, for up to a
# few qconfigs (clustered bars). Written by qbench report.
# Data (tab-separated): a header line "layer <qconfig 1> <qconfig 2> ...", then one
# line per layer.
# Variables: datafile, outfile, plotsdir, title, nseries.
if (!exists("plotsdir")) plotsdir = "plots"
if (!exists("title")) title = "sensitivity"
if (!exists("nseries")) nseries = 1
width = 1100; height = 650
load plotsdir."/qb_terminal.gp"
set title title
set ylabel "drop with only this layer quantized (pp, task metric)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set grid noxtics
set key outside top center horizontal
set xtics rotate by -30 left nomirror
set bmargin 4
set yrange [0:*]
plot for [i=2:nseries+1] datafile using i:xticlabels(1) title columnheader(i)
