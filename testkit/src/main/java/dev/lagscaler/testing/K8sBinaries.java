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
        LOG.atInfo().addKeyValue("progress_log", Path.of(System.getProperty("java.io.tmpdir"),
                "lagscaler-k8s-binaries.sh.log")).log("locating Kubernetes binaries");
        // A first build on 2 cores takes about ten minutes.
        Path dir = Path.of(DevScripts.run("k8s-binaries.sh", Duration.ofMinutes(40)));
        if (!hasAll(dir)) {
            throw new IOException("dev/k8s-binaries.sh printed " + dir + ", which lacks one of " + NAMES);
        }
        return dir;
    }

    private static boolean hasAll(Path dir) {
        return NAMES.stream().allMatch(n -> Files.isExecutable(dir.resolve(n)));
    }
}
