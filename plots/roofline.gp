# Roofline: each benchmarked kernel/shape placed by its arithmetic intensity
# (ops per byte moved, from Google Benchmark's OPS and bytes_per_second counters)
# and its measured rate, under this machine's measured ceilings (qbench's roofline
# probe, 1 thread: compute per backend, L2/L3/DRAM read bandwidth). Written by
# qbench report. Elementwise kernels (quantize, dequantize, requantize) count one op
# per element converted: memory-bound points at 0.2 ops/byte.
# Data (tab-separated): one block per series "intensity GOPS name".
# Variables: datafile, outfile, plotsdir, names (series, one word each), peaks /
#   peaknames (GOPS ceilings), bws / bwnames (GB/s ceilings); empty = not known.
if (!exists("plotsdir")) plotsdir = "plots"
if (!exists("names")) names = "kernels"
if (!exists("peaks")) peaks = ""
if (!exists("peaknames")) peaknames = ""
if (!exists("bws")) bws = ""
if (!exists("bwnames")) bwnames = ""
width = 1100; height = 700
load plotsdir."/qb_terminal.gp"
set title "Roofline, 1 thread: measured kernels under this machine's measured ceilings"
set xlabel "arithmetic intensity (ops per byte moved)"
set ylabel "measured rate (GOPS; fp32: GFLOPS; quantize etc.: G elements/s)"
set logscale xy
set key outside right top
set rmargin 38
set xrange [0.05:2000]
set samples 400
np = words(peaks); nb = words(bwnames); ns = words(names)
maxpeak = 0
do for [i=1:np] { if (real(word(peaks, i)) > maxpeak) { maxpeak = real(word(peaks, i)) } }
# Bandwidth lines stop at the highest compute ceiling (the roof's ridge).
if (maxpeak > 0) { set yrange [0.1:maxpeak*4] }
cap(v) = (maxpeak > 0 && v > maxpeak) ? 1/0 : v
plot for [i=1:ns] datafile index i-1 using 1:2 with points pt 7 ps 1.1 lc i title word(names, i), \
     for [i=1:np] real(word(peaks, i)) with lines dt 2 lw 1.5 lc rgb word("#222222 #555555 #888888 #aaaaaa #cccccc", (i-1)%5+1) \
         title sprintf("%s %.0f GOPS", word(peaknames, i), real(word(peaks, i))), \
     for [j=1:nb] cap(real(word(bws, j)) * x) with lines dt 3 lw 2 lc rgb word("#aa3377 #cc6677 #882255", j) \
         title sprintf("read %s %.0f GB/s", word(bwnames, j), real(word(bws, j)))
