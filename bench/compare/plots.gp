# Draws bench/RESULTS.md's plots from the files rill_compare --plot-data
# writes. bench/run_compare.sh runs it as:
#   gnuplot -e "data='DIR'; out='bench'" bench/compare/plots.gp
set datafile missing "NaN"
set key autotitle columnhead
set grid
set style line 1 lw 2 pt 7 ps 1.2

set terminal pngcairo size 1100,440 font ",10"
set output out."/results_throughput.png"
set multiplot layout 1,2 title "Throughput by value size: keys and values in MB/s, no sync (medians)"
set logscale xy
set xrange [80:90000]
set xtics ("8+100 B" 108, "8 B+1 KiB" 1032, "8 B+64 KiB" 65544)
set xlabel "record"
set ylabel "MB/s"
set key below
set title "append"
plot for [i=2:*] data."/append_by_size.dat" using 1:i with linespoints lw 2 pt 7
set title "replay (every byte read)"
plot for [i=2:*] data."/replay_by_size.dat" using 1:i with linespoints lw 2 pt 7
unset multiplot

set terminal pngcairo size 900,440 font ",10"
set output out."/results_latency.png"
unset logscale x
set xrange [*:*]
set xtics auto
set logscale y
set format y "%g"
set xlabel ""
set ylabel "µs (log scale)"
set key top left
set title "Producer thread to consumer thread, 100 B messages at 100k/s: one-way latency (futex: round trip)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
plot for [i=2:*] data."/latency.dat" using i:xtic(1)
