package dev.lagscaler.bench;

import dev.lagscaler.controller.OperatorCommand;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.LocalControlPlane;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * One operator process, many Kafka ScaledObjects (3,000 by default: 1,000 topics with 3 consumer groups each, on one
 * 3-broker cluster) and their Deployments on the real control plane. The operator runs as its own JVM with the heap
 * the chart ships (JVM options), so its RSS is its own; everything else is read from its {@code /metrics}: heap after
 * a GC, threads, broker connections, Kafka requests per poll, apiserver requests, reconcile latency; and the time
 * from creating every object to every one Ready. Arguments: objects (3000), topics (1000), partitions per topic (3),
 * the operator's JVM options (default "-Xmx384m -XX:+UseSerialGC"), settle seconds (60). Writes bench/results/scale-3000.md (scale-N.md for other sizes).
 */
public final class ScaleThousandsBenchmark {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private ScaleThousandsBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int objects = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        int topics = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int perTopic = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        // The operator's JVM options, as the chart's operator.javaOptions would give them (space-separated).
        String jvm = args.length > 3 ? args[3] : "-Xmx384m -XX:+UseSerialGC";
        int settle = args.length > 4 ? Integer.parseInt(args[4]) : 60;
        // More operator flags, e.g. --no-wake-up-consumer to measure 1 s polling alone.
        List<String> operatorArgs = args.length > 5 ? List.of(args[5].trim().split("\\s+")) : List.of();
        Path results = Path.of(System.getProperty("bench.results", "bench/results"));
        Files.createDirectories(results);
        Path work = Files.createTempDirectory("scale-bench-");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode().withBrokers(3).withHeap("1g")
                .withOffsetsTopicPartitions(50));
             LocalControlPlane plane = LocalControlPlane.start(LocalControlPlane.Options.temporary())) {
            log("creating %d topics x %d partitions and %d groups", topics, perTopic, objects);
            prepareKafka(kafka.bootstrapServers(), objects, topics, perTopic);
            plane.kubectl("create", "namespace", "scale");
            int metricsPort = ChildProcess.freePort();
            List<String> command = new ArrayList<>(List.of(ChildProcess.javaExecutable()));
            command.addAll(List.of(jvm.trim().split("\\s+")));
            command.addAll(List.of("-XX:+ExitOnOutOfMemoryError", "-cp", ChildProcess.absoluteClassPath(),
                    OperatorCommand.class.getName(), "--kubeconfig", plane.kubeconfig().toString(), "--namespace",
                    "lagscaler-scale", "--identity", "scale", "--metrics-feed", "off", "--health-address", "off",
                    "--metrics-address", "127.0.0.1:" + metricsPort));
            command.addAll(operatorArgs);
            Process operator = ChildProcess.start(command, work, work.resolve("operator.log"));
            try {
                ChildProcess.await("the operator leads", Duration.ofSeconds(60), Duration.ofMillis(200),
                        () -> scrape(metricsPort).contains("lagscaler_leader 1.0"));
                Instant created = Instant.now();
                createObjects(plane, work, kafka.bootstrapServers(), objects, topics);
                log("created %d ScaledObjects and Deployments in %d s", objects, Duration.between(created, Instant.now()).toSeconds());
                ChildProcess.await("every ScaledObject Ready", Duration.ofMinutes(15), Duration.ofSeconds(2), () -> {
                    String ready = plane.kubectl("-n", "scale", "get", "scaledobjects",
                            "-o", "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}");
                    long n = ready.lines().filter("True"::equals).count();
                    log("%d of %d Ready", n, objects);
                    return n == objects;
                });
                long readySeconds = Duration.between(created, Instant.now()).toSeconds();
                log("settling %d s", settle);
                Map<String, Double> before = samples(scrape(metricsPort));
                Thread.sleep(settle * 1000L);
                run(List.of("jcmd", Long.toString(operator.pid()), "GC.run"), work);
                Thread.sleep(2000);
                String metrics = scrape(metricsPort);
                Map<String, Double> after = samples(metrics);
                long rssKb = status(operator.pid(), "VmRSS");
                long threads = status(operator.pid(), "Threads");
                double heapUsed = sum(after, "jvm_memory_used_bytes{area=\"heap\"");
                double apiPerMin = (sum(after, "lagscaler_apiserver_requests_total") - sum(before, "lagscaler_apiserver_requests_total"))
                        * 60.0 / settle;
                double kafkaPerMin = (sum(after, "lagscaler_kafka_requests_total") - sum(before, "lagscaler_kafka_requests_total"))
                        * 60.0 / settle;
                double wakeUpPerMin = (sum(after, "lagscaler_kafka_wakeup_requests_total") - sum(before, "lagscaler_kafka_wakeup_requests_total"))
                        * 60.0 / settle;
                double cpuSeconds = (sum(after, "process_cpu_seconds_total") - sum(before, "process_cpu_seconds_total"));
                String md = "# " + objects + " Kafka ScaledObjects on one operator\n\nRun " + Instant.now() + " on "
                        + Runtime.getRuntime().availableProcessors() + " cores (shared with 3 brokers, etcd, kube-apiserver,"
                        + " kube-controller-manager): `bench/scale-thousands.sh " + objects + " " + topics + " " + perTopic + " '"
                        + jvm + "' " + settle + (operatorArgs.isEmpty() ? "" : " " + String.join(" ", operatorArgs)) + "`. " + topics + " topics x " + perTopic + " partitions, " + objects
                        + " consumer groups (one per ScaledObject), lag 0 (targets at zero), one 3-broker cluster; the operator"
                        + " as its own JVM with `" + jvm + "`; figures from its /metrics and /proc after "
                        + settle + " s settled and a GC.\n\n| figure | value |\n|---|---|\n"
                        + "| RSS | " + rssKb / 1024 + " MiB |\n"
                        + String.format("| heap used after GC | %.0f MiB |%n", heapUsed / 1048576)
                        + "| threads | " + threads + " |\n"
                        + String.format("| broker connections | %.0f |%n", sum(after, "lagscaler_kafka_connections{"))
                        + String.format("| Kafka requests per poll (largest in the window) | %.0f |%n", maxPerPoll(after))
                        + String.format("| Kafka requests per minute: polls | %.0f |%n", kafkaPerMin)
                        + String.format("| Kafka requests per minute: wake-up consumer | %.0f |%n", wakeUpPerMin)
                        + String.format("| operator CPU seconds per minute | %.1f |%n", cpuSeconds * 60.0 / settle)
                        + String.format("| apiserver requests per minute (the operator's own) | %.0f |%n", apiPerMin)
                        + String.format("| reconcile p50 / p99 | %s / %s |%n", quantile(after, 0.5), quantile(after, 0.99))
                        + "| from creating all objects to all Ready | " + readySeconds + " s |\n"
                        + "\nGoal: RSS <= 512 MiB with the chart's heap settings, reconcile p99 < 1 s.\n";
                boolean polling = operatorArgs.contains("--no-wake-up-consumer");
                String file = objects == 3000 && operatorArgs.isEmpty() ? "scale-3000.md"
                        : "idle-cost-" + objects + (polling ? "-polling" : "-wakeup") + ".md";
                Files.writeString(results.resolve(file), md);
                System.out.println(md);
            } finally {
                ChildProcess.stop(operator, Duration.ofSeconds(10));
                // The operator's own log outlives the run (JSON lines; LAGSCALER_LOG_LEVEL=debug adds every poll).
                if (Files.exists(work.resolve("operator.log"))) {
                    Files.copy(work.resolve("operator.log"), Path.of(System.getProperty("java.io.tmpdir"),
                            "lagscaler-scale-operator.log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } finally {
            ChildProcess.deleteRecursively(work);
        }
        System.exit(0);
    }

    static void prepareKafka(String bootstrap, int objects, int topics, int perTopic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "600000", AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "300000"))) {
            List<String> names = new ArrayList<>();
            for (int t = 0; t < topics; t++) {
                names.add("topic-" + t);
            }
            BenchKafka.createTopics(admin, names, perTopic, 100);
            Map<String, Map<TopicPartition, OffsetAndMetadata>> offsets = new HashMap<>();
            for (int i = 0; i < objects; i++) {
                Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
                for (int p = 0; p < perTopic; p++) {
                    start.put(new TopicPartition("topic-" + (i % topics), p), new OffsetAndMetadata(0));
                }
                offsets.put("group-" + i, start);
            }
            BenchKafka.commitUntilAccepted(admin, offsets, Duration.ofSeconds(3));
        }
    }

    /** Deployments and ScaledObjects in files of 500 documents, applied server-side. */
    static void createObjects(LocalControlPlane plane, Path work, String bootstrap, int objects, int topics)
            throws Exception {
        for (int from = 0; from < objects; from += 500) {
            StringBuilder yaml = new StringBuilder();
            for (int i = from; i < Math.min(objects, from + 500); i++) {
                yaml.append(dev.lagscaler.testing.Manifests.consumerAndScaledObject(i, 0, "", bootstrap, "group-" + i, "topic-" + (i % topics), 50));
            }
            Path file = work.resolve("objects-" + from + ".yaml");
            Files.writeString(file, yaml);
            plane.kubectl("-n", "scale", "apply", "--server-side", "-f", file.toString());
        }
    }

    /** The largest batched poll: the poll-duration histogram counts polls, the request counter their requests. */
    private static double maxPerPoll(Map<String, Double> samples) {
        double polls = sum(samples, "lagscaler_kafka_poll_duration_seconds_count");
        double requests = sum(samples, "lagscaler_kafka_requests_total");
        return Math.max(sum(samples, "lagscaler_kafka_requests_per_poll{"), polls == 0 ? 0 : Math.ceil(requests / polls));
    }

    static String scrape(int port) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*(\\{[^}]*})?) ([-0-9.eE+]+)$");

    static Map<String, Double> samples(String text) {
        Map<String, Double> out = new HashMap<>();
        for (String line : text.split("\n")) {
            Matcher m = SAMPLE.matcher(line.trim());
            if (m.matches()) {
                out.put(m.group(1), Double.parseDouble(m.group(3)));
            }
        }
        return out;
    }

    static double sum(Map<String, Double> samples, String prefix) {
        return samples.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToDouble(Map.Entry::getValue).sum();
    }

    /** A quantile of lagscaler_reconcile_duration_seconds from its cumulative buckets (upper bound of the bucket). */
    static String quantile(Map<String, Double> samples, double q) {
        double count = sum(samples, "lagscaler_reconcile_duration_seconds_count");
        List<double[]> buckets = new ArrayList<>();
        Pattern le = Pattern.compile("le=\"([^\"]+)\"");
        samples.forEach((k, v) -> {
            if (k.startsWith("lagscaler_reconcile_duration_seconds_bucket")) {
                Matcher m = le.matcher(k);
                if (m.find()) {
                    buckets.add(new double[] {m.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(m.group(1)), v});
                }
            }
        });
        buckets.sort((a, b) -> Double.compare(a[0], b[0]));
        for (double[] b : buckets) {
            if (b[1] >= q * count) {
                return b[0] == Double.POSITIVE_INFINITY ? "> 5 s" : "<= " + (b[0] >= 1 ? (long) b[0] + " s" : (long) (b[0] * 1000) + " ms");
            }
        }
        return "n/a";
    }

    static long status(long pid, String field) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    static void run(List<String> command, Path dir) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        p.waitFor(60, TimeUnit.SECONDS);
    }

    private static void log(String format, Object... args) {
        BenchKafka.log(format, args);
    }
}
