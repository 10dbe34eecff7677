package dev.lagscaler.bench;

import dev.lagscaler.adapter.ExternalMetricsServer;
import dev.lagscaler.adapter.MetricsAdapter;
import dev.lagscaler.feed.v1.MetricUpdate;
import dev.lagscaler.metrics.MetricsFeedServer;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.tls.Pki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Adapter throughput and latency over TLS on loopback with 1,000 ScaledObjects' metrics held in memory, measured by
 * wrk in another process. Requests carry a bearer token, so every one goes through authentication (TokenReview,
 * cached) and authorization (SubjectAccessReview, cached 5 s per metric) against the real apiserver.
 * Arguments: seconds (default 20), connections (default 32).
 */
public final class AdapterBenchmark {
    public static void main(String[] args) throws Exception {
        run(args);
        // Informer and client threads of the in-process operator are not daemons: end the JVM once results are written.
        System.exit(0);
    }

    private static void run(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int connections = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int objects = 1000;
        Path results = Path.of(System.getProperty("bench.results", "bench/results"));
        Files.createDirectories(results);
        Path work = Files.createTempDirectory("adapter-bench-");
        try (LocalControlPlane plane = LocalControlPlane.start(LocalControlPlane.Options.temporary());
             MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0)) {
            feed.leading(true); // standing in for a leading operator
            for (int i = 0; i < objects; i++) {
                feed.publish(MetricUpdate.newBuilder().setNamespace("bench").setScaledObject("so-" + i)
                        .setMetricName("s0-kafka-topic-" + i).setValueMilli(1000L * i)
                        .setTimestampMillis(System.currentTimeMillis()).build());
            }
            Pki.Issued ca = Pki.ca("bench-ca");
            Pki.Issued serving = Pki.server(ca, "adapter", List.of("localhost"), List.of("127.0.0.1"));
            try (MetricsAdapter adapter = MetricsAdapter.start(plane.apiClient(), "127.0.0.1", feed.port(),
                    new ExternalMetricsServer.Options("127.0.0.1", 0, serving.certificatePem(), serving.privateKeyPem()))) {
                ChildProcess.await("1,000 metrics held", Duration.ofSeconds(30), Duration.ofMillis(50),
                        () -> adapter.store().synced() && adapter.store().size() == objects);
                Path script = work.resolve("rotate.lua");
                Files.writeString(script, """
                        local i = 0
                        request = function()
                          i = (i + 1) %% %d
                          local path = "/apis/external.metrics.k8s.io/v1beta1/namespaces/bench/s0-kafka-topic-" .. i
                            .. "?labelSelector=scaledobject.keda.sh%%2Fname%%3Dso-" .. i
                          return wrk.format("GET", path, {["Authorization"] = "Bearer %s"})
                        end
                        """.formatted(objects, plane.adminToken()));
                String url = "https://127.0.0.1:" + adapter.port();
                run(List.of("wrk", "-t1", "-c" + connections, "-d3s", "-s", script.toString(), url), work); // warm-up
                String output = run(List.of("wrk", "-t1", "-c" + connections, "-d" + seconds + "s", "--latency",
                        "-s", script.toString(), url), work);
                String md = "# Metrics adapter benchmark\n\nRun " + Instant.now() + " on "
                        + Runtime.getRuntime().availableProcessors() + " cores (shared by wrk, the adapter, kube-apiserver"
                        + " and etcd): wrk 4.1 over TLS (HTTP/1.1) on loopback, " + connections + " connections, "
                        + seconds + " s, requests rotating over " + objects + " ScaledObjects' metrics, each with a"
                        + " bearer token (TokenReview and SubjectAccessReview, cached).\n\n```\n" + output.strip() + "\n```\n";
                Files.writeString(results.resolve("metrics-adapter.md"), md);
                System.out.println(md);
            }
        } finally {
            ChildProcess.deleteRecursively(work);
        }
    }

    private static String run(List<String> command, Path dir) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
        }
        return out;
    }
}
