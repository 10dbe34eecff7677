package dev.lagscaler.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Finds etcd, kube-apiserver, kube-controller-manager and kubectl: from {@code KUBEBUILDER_ASSETS}, else by running
 * the repo's {@code dev/k8s-binaries.sh}, which builds them from their Go modules once and caches them in the home
 * directory.
 */
public final class K8sBinaries {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(K8sBinaries.class);
    private static final List<String> NAMES = List.of("etcd", "kube-apiserver", "kube-controller-manager", "kubectl");

    private K8sBinaries() {
    }

    public static Path locate() throws IOException {
        String assets = System.getenv("KUBEBUILDER_ASSETS");
        if (assets != null && !assets.isBlank() && hasAll(Path.of(assets))) {
            return Path.of(assets);
        }
        Path script = findScript();
        Path log = Files.createTempFile("lagscaler-k8s-binaries-", ".out");
        Path progress = Path.of(System.getProperty("java.io.tmpdir"), "lagscaler-k8s-binaries-build.log");
        LOG.atInfo().addKeyValue("script", script).addKeyValue("progress_log", progress).log("locating Kubernetes binaries");
        try {
            Process process = new ProcessBuilder("bash", script.toString())
                    .redirectError(progress.toFile())
                    .redirectOutput(log.toFile())
                    .start();
            // A first build on 2 cores takes about ten minutes.
            if (!process.waitFor(Duration.ofMinutes(40).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IOException("building the Kubernetes binaries took over 40 minutes");
            }
            if (process.exitValue() != 0) {
                throw new IOException(script + " failed with exit code " + process.exitValue() + ":\n"
                        + ChildProcess.tail(progress, 30));
            }
            List<String> lines = Files.readAllLines(log);
            Path dir = Path.of(lines.get(lines.size() - 1).trim());
            if (!hasAll(dir)) {
                throw new IOException(script + " printed " + dir + ", which lacks one of " + NAMES);
            }
            return dir;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while building the Kubernetes binaries", e);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** The repo's build script, found from {@code lagscaler.home} or by walking up from the working directory. */
    public static Path findScript() throws IOException {
        String home = System.getProperty("lagscaler.home", System.getenv("LAGSCALER_HOME"));
        if (home != null && Files.isRegularFile(Path.of(home, "dev", "k8s-binaries.sh"))) {
            return Path.of(home, "dev", "k8s-binaries.sh");
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("dev").resolve("k8s-binaries.sh");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IOException("no Kubernetes binaries: set KUBEBUILDER_ASSETS to a directory with " + NAMES
                + ", or run from the lagscaler repository (dev/k8s-binaries.sh builds them)");
    }

    private static boolean hasAll(Path dir) {
        return NAMES.stream().allMatch(n -> Files.isExecutable(dir.resolve(n)));
    }
}
