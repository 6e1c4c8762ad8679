# Top-1 accuracy drop from fp32 per quantization scheme, from qbench demo's CSV.
# usage: gnuplot -e "datafile='results/demo/demo.csv'; outfile='results/demo/demo_accuracy.png'" plots/demo_accuracy.gp
if (!exists("datafile")) datafile = 'results/demo/demo.csv'
if (!exists("outfile")) outfile = 'results/demo/demo_accuracy.png'

set terminal pngcairo noenhanced size 1100,650 font "DejaVu Sans,10"
set output outfile
set datafile separator ","
set title "qbench demo: Fashion-MNIST linear classifier, top-1 drop from fp32 per scheme"
set ylabel "top-1 drop (percentage points, lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top left
set xtics rotate by -35 left nomirror
set bmargin 11
set rmargin 12
set yrange [0:*]
plot datafile using ($7 < 0 ? 0 : $7):xticlabels(sprintf("W %s | A %s", strcol(1), strcol(2))) \
     skip 1 title "simulated (fake-quant)" lc rgb "#4477aa", \
     '' using (strcol(10) eq "n/a" ? 1/0 : ($7 + $6 - $10 < 0 ? 0 : $7 + $6 - $10)) skip 1 \
     title "integer reference GEMM" lc rgb "#ee6677"
