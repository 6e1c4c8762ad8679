# Pareto front: accuracy drop (pp, lower is better) vs a cost (latency or bytes),
# one panel per series (backend), stacked, so that labels of different backends
# never overlap. Written by qbench report (harness/report/qb_report_plots.c).
# Data (tab-separated): for series i, block 2i = every qconfig "x y label",
# block 2i+1 = its Pareto front sorted by x. Only front points are labelled.
# Variables: datafile, outfile, plotsdir, names (space-separated series names),
#   title, xlabel, logx (1 = log scale x).
if (!exists("plotsdir")) plotsdir = "plots"
if (!exists("names")) names = "all"
if (!exists("title")) title = "Pareto front"
if (!exists("xlabel")) xlabel = "cost"
if (!exists("logx")) logx = 0
n = words(names)
width = 1100; height = 90 + 300 * n
load plotsdir."/qb_terminal.gp"
if (logx) { set logscale x }
set key off
set offsets graph 0.02, graph 0.30, graph 0.12, graph 0.06
set multiplot layout n,1 title title
do for [i=1:n] {
  if (i == n) { set xlabel xlabel } else { unset xlabel }
  set ylabel "drop (pp)"
  set title word(names, i) offset 0,-0.6
  plot datafile index 2*(i-1) using 1:2 with points pt 7 ps 0.9 lc rgb "#999999", \
       datafile index 2*(i-1)+1 using 1:2 with steps lw 2 lc i, \
       datafile index 2*(i-1)+1 using 1:2 with points pt 7 ps 1.1 lc i, \
       datafile index 2*(i-1)+1 using 1:2:3 with labels left offset 0.8,0.5 font ",9" tc lt i
}
unset multiplot
