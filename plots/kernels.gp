# Backend comparison of the benchmarked kernels (qbench bench -> RUN/gbench.json):
# one panel per kernel family, shapes along x, one bar per variant (tile + backend)
# and per peer (oneDNN int8, OpenBLAS fp32), rate in GOPS on a log scale so scalar
# and SIMD fit together. Written by qbench report.
# Data (tab-separated): one block per family: header "shape <columns...>", then one
# line per shape (NaN = not measured).
# Variables: datafile, outfile, plotsdir, families (space-separated), ncols (space-
#   separated column count per family).
if (!exists("plotsdir")) plotsdir = "plots"
if (!exists("families")) families = "gemm"
if (!exists("ncols")) ncols = "1"
n = words(families)
width = 1200; height = 80 + 380 * n
load plotsdir."/qb_terminal.gp"
set multiplot layout n,1 title "Kernel rate per backend and peer, 1 thread (higher is better; log scale)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set grid noxtics ytics
set key outside right top
set rmargin 30
set ylabel "GOPS (fp32 peers: GFLOPS)"
do for [i=1:n] {
  set title word(families, i)
  nc = int(word(ncols, i))
  plot for [c=2:nc+1] datafile index i-1 using c:xticlabels(1) title columnheader(c)
}
unset multiplot
