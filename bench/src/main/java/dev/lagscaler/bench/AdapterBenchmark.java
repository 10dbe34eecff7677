package dev.lagscaler.bench;

import dev.lagscaler.adapter.ExternalMetricsServer;
import dev.lagscaler.adapter.MetricsAdapter;
import dev.lagscaler.feed.v1.MetricUpdate;
import dev.lagscaler.metrics.MetricsFeedServer;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.tls.Pki;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metrics adapter against the ceiling of its own server stack, in one run: a bare Vert.x TLS server answering a
 * fixed JSON body (one server per core, as the adapter runs), loaded by the same client with the same settings.
 * The load ({@link LoadClient}) is a separate process: the aggregator's path (HTTP/2, the front proxy's client
 * certificate and X-Remote-User headers) and the bearer-token path (HTTP/1.1, TokenReview and SubjectAccessReview
 * against the real apiserver, cached), then the aggregator's path with 100 and 10,000 ScaledObjects' metrics held.
 * Arguments: seconds per row (default 10), connections (default 32). Writes bench/results/metrics-adapter.md.
 */
public final class AdapterBenchmark {
    private static final Pattern RESULT = Pattern.compile("RESULT rps=(\\d+) p50=([\\d.]+) p99=([\\d.]+) n=(\\d+) codes=(.*)");

    private record Row(String what, String protocol, int metrics, double rps, double p50, double p99, String codes) {
    }

    public static void main(String[] args) throws Exception {
        run(args);
        // Informer and client threads of the in-process adapter are not daemons: end the JVM once results are written.
        System.exit(0);
    }

    private static void run(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int connections = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        Path results = Path.of(System.getProperty("bench.results", "bench/results"));
        Files.createDirectories(results);
        Path work = Files.createTempDirectory("adapter-bench-");
        Vertx bareVertx = Vertx.vertx();
        try (LocalControlPlane plane = LocalControlPlane.start(LocalControlPlane.Options.temporary());
             MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0)) {
            feed.leading(true); // standing in for a leading operator
            Pki.Issued ca = Pki.ca("bench-ca");
            Pki.Issued serving = Pki.server(ca, "adapter", List.of("localhost"), List.of("127.0.0.1"));
            Path caFile = Files.writeString(work.resolve("ca.crt"), ca.certificatePem());
            Path pki = plane.directory().resolve("pki");
            String cert = "cert:" + pki.resolve("front-proxy-client.crt") + "," + pki.resolve("front-proxy-client.key");
            String bearer = "bearer:" + plane.adminToken();
            int bare = bareServer(bareVertx, serving);
            List<Row> rows = new ArrayList<>();
            publish(feed, 0, 100);
            try (MetricsAdapter adapter = MetricsAdapter.start(plane.apiClient(), "127.0.0.1", feed.port(),
                    new ExternalMetricsServer.Options("127.0.0.1", 0, serving.certificatePem(), serving.privateKeyPem()))) {
                await(adapter, 100);
                // A run that is not recorded: the first load in a fresh JVM measures the JIT more than the adapter.
                load("warm-up", "h2", 100, adapter.port(), cert, caFile, connections, seconds, work);
                load("warm-up", "h2", 100, bare, "none", caFile, connections, seconds, work);
                // Each adapter row against the bare server loaded the same way just before it: the same protocol and
                // the same number of distinct paths (HTTP/2 header compression and caches depend on it).
                rows.add(load("bare Vert.x TLS server, fixed body", "h2", 100, bare, "none", caFile, connections, seconds, work));
                rows.add(load("adapter, aggregator path (client certificate)", "h2", 100, adapter.port(), cert, caFile, connections, seconds, work));
                publish(feed, 100, 1000);
                await(adapter, 1000);
                rows.add(load("bare Vert.x TLS server, fixed body", "h2", 1000, bare, "none", caFile, connections, seconds, work));
                rows.add(load("adapter, aggregator path (client certificate)", "h2", 1000, adapter.port(), cert, caFile, connections, seconds, work));
                rows.add(load("bare Vert.x TLS server, fixed body", "h1", 1000, bare, "none", caFile, connections, seconds, work));
                rows.add(load("adapter, bearer token (TokenReview, SubjectAccessReview)", "h1", 1000, adapter.port(), bearer, caFile, connections, seconds, work));
                publish(feed, 1000, 10_000);
                await(adapter, 10_000);
                rows.add(load("bare Vert.x TLS server, fixed body", "h2", 10_000, bare, "none", caFile, connections, seconds, work));
                rows.add(load("adapter, aggregator path (client certificate)", "h2", 10_000, adapter.port(), cert, caFile, connections, seconds, work));
            }
            String md = report(rows, seconds, connections);
            Files.writeString(results.resolve("metrics-adapter.md"), md);
            System.out.println(md);
        } finally {
            bareVertx.close().await();
            ChildProcess.deleteRecursively(work);
        }
    }

    private static void publish(MetricsFeedServer feed, int from, int to) {
        for (int i = from; i < to; i++) {
            feed.publish(MetricUpdate.newBuilder().setNamespace("bench").setScaledObject("so-" + i)
                    .setMetricName("s0-kafka-topic-" + i).setValueMilli(1000L * i)
                    .setTimestampMillis(System.currentTimeMillis()).build());
        }
    }

    private static void await(MetricsAdapter adapter, int metrics) throws Exception {
        ChildProcess.await(metrics + " metrics held", Duration.ofSeconds(60), Duration.ofMillis(50),
                () -> adapter.store().synced() && adapter.store().size() == metrics);
    }

    /** The ceiling: the same TLS setup and a body the size of an adapter answer, no work per request. */
    private static int bareServer(Vertx vertx, Pki.Issued serving) throws Exception {
        String body = "{\"kind\":\"ExternalMetricValueList\",\"apiVersion\":\"external.metrics.k8s.io/v1beta1\",\"metadata\":{},"
                + "\"items\":[{\"metricName\":\"s0-kafka-topic-1\",\"metricLabels\":{\"scaledobject.keda.sh/name\":\"so-1\"},"
                + "\"timestamp\":\"2026-11-26T00:00:00Z\",\"value\":\"1\"}]}";
        Buffer fixed = Buffer.buffer(body);
        HttpServerOptions options = new HttpServerOptions().setHost("127.0.0.1").setPort(0).setSsl(true).setUseAlpn(true)
                .setKeyCertOptions(new PemKeyCertOptions().addCertValue(Buffer.buffer(serving.certificatePem()))
                        .addKeyValue(Buffer.buffer(serving.privateKeyPem())));
        HttpServer first = null;
        for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
            io.vertx.core.Promise<HttpServer> started = io.vertx.core.Promise.promise();
            // Same options, same requested port (0): Vert.x binds once and shares the socket, as the adapter does.
            vertx.getOrCreateContext().runOnContext(v -> vertx.createHttpServer(options).requestHandler(r -> r.response()
                    .putHeader("Content-Type", "application/json").end(fixed)).listen().onComplete(started));
            HttpServer server = started.future().await();
            first = first == null ? server : first;
        }
        return first.actualPort();
    }

    private static Row load(String what, String protocol, int metrics, int port, String auth, Path ca, int connections,
                            int seconds, Path work) throws Exception {
        Path log = work.resolve("load-" + System.nanoTime() + ".log");
        ChildProcess.run(List.of(ChildProcess.javaExecutable(), "-Xmx512m", "-cp", ChildProcess.absoluteClassPath(),
                LoadClient.class.getName(), Integer.toString(port), protocol, Integer.toString(connections),
                Integer.toString(seconds), Integer.toString(metrics), auth, ca.toString()), work, log,
                Duration.ofSeconds(seconds + 60L));
        Matcher m = RESULT.matcher(Files.readString(log));
        if (!m.find()) {
            throw new IllegalStateException("no result from the load client:\n" + Files.readString(log));
        }
        Row row = new Row(what, protocol.equals("h2") ? "HTTP/2" : "HTTP/1.1", metrics, Double.parseDouble(m.group(1)),
                Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)), m.group(5));
        System.out.printf("%s, %s, %d metrics: %.0f requests/s, p50 %.2f ms, p99 %.2f ms %s%n", row.what(), row.protocol(),
                row.metrics(), row.rps(), row.p50(), row.p99(), row.codes());
        return row;
    }

    private static String report(List<Row> rows, int seconds, int connections) {
        StringBuilder md = new StringBuilder("# Metrics adapter benchmark\n\nRun " + Instant.now() + " on "
                + Runtime.getRuntime().availableProcessors() + " cores (shared by the load client, the servers,"
                + " kube-apiserver and etcd): `bench/metrics-adapter.sh " + seconds + " " + connections + "`. A closed-loop"
                + " client process (" + connections + " requests in flight, 2 s warm-up, " + seconds + " s measured) over TLS"
                + " on loopback, requests rotating over the metrics held (the bare server's rows rotate over as many"
                + " paths; each ratio is to the bare row of the same protocol and paths).\n\n");
        md.append("| server | protocol | metrics held | requests/s | p50 ms | p99 ms | ratio to bare | status codes |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            Row bare = rows.stream().filter(b -> b.what().startsWith("bare") && b.protocol().equals(r.protocol())
                    && b.metrics() == r.metrics()).findFirst().orElse(null);
            String ratio = bare == null || r.what().startsWith("bare") ? "" : String.format("%.2f", r.rps() / bare.rps());
            md.append(String.format("| %s | %s | %,d | %,.0f | %.2f | %.2f | %s | %s |%n", r.what(), r.protocol(),
                    r.metrics(), r.rps(), r.p50(), r.p99(), ratio, r.codes()));
        }
        md.append("\nGoal: at least 0.70 of the bare server's requests/s in the same run, p99 under 5 ms, and flat from 100"
                + " to 10,000 metrics.\n");
        return md.toString();
    }
}
