package dev.lagscaler.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * lagscaler's images, built from {@code deploy/*.Dockerfile} by {@code dev/images.sh} (buildah on local Debian bases;
 * no Docker engine, no registry) as docker-archive tarballs a {@link LocalNode} imports.
 */
public final class Images {
    public static final String OPERATOR = "docker.io/lagscaler/operator:0.1.0";
    public static final String ADAPTER = "docker.io/lagscaler/metrics-adapter:0.1.0";
    public static final String CONSUMER = "docker.io/lagscaler/demo-consumer:0.1.0";

    private Images() {
    }

    /** Builds what changed (the first build makes the bases: minutes) and returns the operator, adapter, consumer tarballs. */
    public static List<Path> build() throws IOException {
        Path dir = Path.of(DevScripts.run("images.sh", Duration.ofMinutes(40)));
        List<Path> tarballs = List.of(dir.resolve("operator.tar"), dir.resolve("adapter.tar"), dir.resolve("consumer.tar"));
        for (Path tarball : tarballs) {
            if (!Files.isRegularFile(tarball)) {
                throw new IOException("dev/images.sh printed " + dir + ", which lacks " + tarball.getFileName());
            }
        }
        return tarballs;
    }

    /** What the last {@link #build()} measured of each image: name, size, tarball, /app size, base. */
    public static List<String> sizes() throws IOException {
        Path sizes = Path.of(System.getenv().getOrDefault("LAGSCALER_CACHE",
                System.getProperty("user.home") + "/.cache/lagscaler"), "images", "sizes.txt");
        return Files.readAllLines(sizes);
    }
}
