package dev.lagscaler.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The repository's {@code dev/*.sh} scripts that build or unpack a real part once and print where it is (the last
 * line of their output); their progress goes to a log file in the temp folder.
 */
public final class DevScripts {
    private static volatile java.util.function.Consumer<String> progress;

    private DevScripts() {
    }

    /**
     * Where the scripts' stage lines (their {@code [name] ...} lines on stderr) and a heartbeat every 30 s go while
     * a build runs, besides the log file: the demo shows them, so a first run is never a silent screen.
     */
    public static void onProgress(java.util.function.Consumer<String> listener) {
        progress = listener;
    }

    /** Runs {@code dev/<name>} and returns the last line it printed. */
    public static String run(String name, Duration timeout) throws IOException {
        Path script = find(name);
        Path out = Files.createTempFile("lagscaler-" + name + "-", ".out");
        Path log = Path.of(System.getProperty("java.io.tmpdir"), "lagscaler-" + name + ".log");
        try {
            java.util.function.Consumer<String> listener = progress;
            ProcessBuilder builder = new ProcessBuilder("bash", script.toString()).redirectOutput(out.toFile());
            Process process = (listener == null ? builder.redirectError(log.toFile()) : builder).start();
            if (listener != null) {
                forward(process, log, listener);
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IOException(script + " took over " + timeout.toMinutes() + " minutes (progress: " + log + ")");
            }
            if (process.exitValue() != 0) {
                throw new IOException(script + " failed with exit code " + process.exitValue() + ":\n"
                        + ChildProcess.tail(log, 30));
            }
            List<String> lines = Files.readAllLines(out);
            if (lines.isEmpty()) {
                throw new IOException(script + " printed nothing");
            }
            return lines.get(lines.size() - 1).trim();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + script, e);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** Copies the script's stderr to {@code log}, passing its stage lines, and a heartbeat, to {@code listener}. */
    private static void forward(Process process, Path log, java.util.function.Consumer<String> listener) {
        String[] stage = {"working"};
        long[] last = {System.nanoTime()};
        Thread reader = new Thread(() -> {
            try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(process.getErrorStream()));
                 var file = Files.newBufferedWriter(log)) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    file.write(line);
                    file.newLine();
                    if (line.startsWith("[")) {
                        stage[0] = line.substring(line.indexOf(']') + 1).trim();
                        last[0] = System.nanoTime();
                        listener.accept(line);
                    }
                }
            } catch (IOException e) {
                // The script ended or its output closed: its exit code tells the rest.
            }
        }, "dev-script-progress");
        reader.setDaemon(true);
        reader.start();
        Thread heartbeat = new Thread(() -> {
            while (process.isAlive()) {
                try {
                    Thread.sleep(5000);
                } catch (InterruptedException e) {
                    return;
                }
                if (process.isAlive() && System.nanoTime() - last[0] > 30_000_000_000L) {
                    last[0] = System.nanoTime();
                    listener.accept("... still " + stage[0] + " (full output: " + log + ")");
                }
            }
        }, "dev-script-heartbeat");
        heartbeat.setDaemon(true);
        heartbeat.start();
    }

    /** The repository's root folder (the one holding {@code dev/}). */
    public static Path repoRoot() throws IOException {
        return find("k8s-binaries.sh").getParent().getParent();
    }

    /** {@code dev/<name>}, found from {@code lagscaler.home} or by walking up from the working directory. */
    public static Path find(String name) throws IOException {
        String home = System.getProperty("lagscaler.home", System.getenv("LAGSCALER_HOME"));
        if (home != null && Files.isRegularFile(Path.of(home, "dev", name))) {
            return Path.of(home, "dev", name);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("dev").resolve(name);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IOException("dev/" + name + " not found: run from the lagscaler repository or set LAGSCALER_HOME");
    }
}
