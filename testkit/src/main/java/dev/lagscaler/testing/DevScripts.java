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
    private DevScripts() {
    }

    /** Runs {@code dev/<name>} and returns the last line it printed. */
    public static String run(String name, Duration timeout) throws IOException {
        Path script = find(name);
        Path out = Files.createTempFile("lagscaler-" + name + "-", ".out");
        Path progress = Path.of(System.getProperty("java.io.tmpdir"), "lagscaler-" + name + ".log");
        try {
            Process process = new ProcessBuilder("bash", script.toString())
                    .redirectError(progress.toFile())
                    .redirectOutput(out.toFile())
                    .start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IOException(script + " took over " + timeout.toMinutes() + " minutes (progress: " + progress + ")");
            }
            if (process.exitValue() != 0) {
                throw new IOException(script + " failed with exit code " + process.exitValue() + ":\n"
                        + ChildProcess.tail(progress, 30));
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
