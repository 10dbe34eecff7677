package dev.lagscaler.cli.demo;

import java.io.PrintWriter;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The demo's view, once a second: on a terminal a table of the last rows redrawn in place under a status line; when
 * the output is not a terminal (a file, a pipe, a test), one plain line per sample.
 */
public final class LiveView {
    private static final String HEADER = String.format("%7s %10s %8s %8s %8s %9s %10s  %s",
            "time", "produced/s", "lag", "metric", "hpa", "replicas", "consumers", "state");
    private static final int ROWS = 12;

    private final PrintWriter out;
    private final boolean terminal;
    private final Deque<String> rows = new ArrayDeque<>();
    private int drawnLines;
    private boolean headerShown;

    public LiveView(PrintWriter out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    public void show(DemoSample s, String phase) {
        String row = String.format("%6.0fs %10d %8d %8s %8s %9d %10d  %s", s.seconds(), s.producedPerSecond(), s.lag(),
                s.metricValue() == null ? "-" : String.format("%.0f", s.metricValue()),
                s.hpaDesired() == null ? "-" : s.hpaDesired().toString(), s.replicas(), s.consumers(),
                (s.active() ? "active" : "idle") + (s.fallback() ? ", fallback" : "") + " (" + phase + ")");
        if (!terminal) {
            if (!headerShown) {
                out.println(HEADER);
                headerShown = true;
            }
            out.println(row);
            out.flush();
            return;
        }
        rows.addLast(row);
        if (rows.size() > ROWS) {
            rows.removeFirst();
        }
        StringBuilder frame = new StringBuilder();
        if (drawnLines > 0) {
            frame.append("\u001b[").append(drawnLines).append("F"); // back to the table's first line
        }
        frame.append("\u001b[J").append(HEADER).append('\n');
        rows.forEach(r -> frame.append(r).append('\n'));
        drawnLines = rows.size() + 1;
        out.print(frame);
        out.flush();
    }

    /** A line outside the table (a step of the story); the table starts again below it. */
    public void note(String line) {
        out.println(line);
        out.flush();
        if (terminal) {
            drawnLines = 0;
            rows.clear();
        }
    }
}
