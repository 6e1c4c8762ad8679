# Hardware comparison: per model, the end-to-end speed-up of each machine over the
# first run's machine (geometric mean over the qconfigs measured on both), raw and
# normalized by the ratio of the machines' measured int8 peaks. Written by
# qbench hardware. Data (tab-separated): header "model <series>...", one line per model.
# Variables: datafile, outfile, plotsdir, nseries.
if (!exists("plotsdir")) plotsdir = "plots"
if (!exists("nseries")) nseries = 2
width = 1000; height = 600
load plotsdir."/qb_terminal.gp"
set title "Speed-up over machine A, end to end (fastest backend on each; dashed: 1x)"
set ylabel "speed-up (x; normalized: per unit of int8 peak)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid noxtics
set key outside top center horizontal
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "#444444"
plot for [i=2:nseries+1] datafile using i:xticlabels(1) title columnheader(i)
