# A metric over time from the results history (qbench history --plot). One line per
# series (model layer backend qconfig), one point per run (its start time).
# Data (tab-separated): one block per series: its label line, then
# "started_utc value run_id" lines.
# Variables: datafile, outfile, plotsdir, nseries, ylabel, title.
if (!exists("plotsdir")) plotsdir = "plots"
if (!exists("nseries")) nseries = 1
if (!exists("ylabel")) ylabel = "value"
if (!exists("title")) title = "history"
width = 1100; height = 560 + 20 * nseries
load plotsdir."/qb_terminal.gp"
set title title
set ylabel ylabel
set xdata time
set timefmt "%Y-%m-%dT%H:%M:%SZ"
set format x "%m-%d\n%H:%M"
set xlabel "run start (UTC)"
set key below left Left reverse
set offsets graph 0.03, graph 0.03, graph 0.1, graph 0.1
plot for [i=1:nseries] datafile index i-1 using 1:2 with linespoints pt 7 ps 0.8 lw 1.5 lc i title columnheader(1)
