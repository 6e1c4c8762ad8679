# Shared by the report plots: pick the terminal from outfile's extension (.svg or
# .png), same size and font for both. Callers set `width` and `height` (pixels).
if (!exists("width")) width = 1100
if (!exists("height")) height = 650
if (strlen(outfile) > 4 && outfile[strlen(outfile)-2:strlen(outfile)] eq "svg") {
  set terminal svg noenhanced size width,height font "DejaVu Sans,11" background "#ffffff"
} else {
  set terminal pngcairo noenhanced size width,height font "DejaVu Sans,10"
}
set output outfile
set datafile separator "\t"
set grid
