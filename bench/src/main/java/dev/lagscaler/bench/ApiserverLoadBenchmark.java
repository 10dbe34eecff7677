package dev.lagscaler.bench;

import dev.lagscaler.controller.Operator;
import dev.lagscaler.controller.OperatorConfig;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import io.kubernetes.client.openapi.ApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.TopicPartition;

/**
 * Apiserver requests the operator makes for N ScaledObjects that sit idle (targets at zero, lag 0) and for N that are
 * active (lag above threshold, targets at 1 with an HPA), measured from kube-apiserver's own
 * {@code apiserver_request_total}: a window with the operator running minus a window of the same length with it
 * stopped (what kube-controller-manager and the apiserver do by themselves), per minute. The operator's own request
 * count, taken by an interceptor on its client, is reported beside it as a cross-check.
 * Arguments: objects (default 100), window seconds (default 30), label for the results file (default "current").
 */
public final class ApiserverLoadBenchmark {
    private static final Pattern SAMPLE = Pattern.compile("^apiserver_request_total\\{([^}]*)} ([0-9.e+]+)$");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    public static void main(String[] args) throws Exception {
        int objects = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        Duration window = Duration.ofSeconds(args.length > 1 ? Integer.parseInt(args[1]) : 30);
        String label = args.length > 2 ? args[2] : "current";
        Path results = Path.of(System.getProperty("bench.results", "bench/results"));
        Files.createDirectories(results);
        StringBuilder md = new StringBuilder("# Apiserver requests made by the operator (" + label + ")\n\nRun "
                + Instant.now() + " on " + Runtime.getRuntime().availableProcessors() + " cores: " + objects
                + " ScaledObjects, real kube-apiserver and KRaft broker; windows of " + window.toSeconds()
                + " s, operator running minus operator stopped, scaled to one minute.\n\n"
                + "| case | apiserver requests/min (all verbs) | of which GET | operator's own count/min (interceptor) | by verb and resource |\n"
                + "|---|---|---|---|---|\n");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode());
             LocalControlPlane plane = LocalControlPlane.start(LocalControlPlane.Options.temporary())) {
            KafkaTestData.createTopic(kafka.bootstrapServers(), "events", 1);
            KafkaTestData.produce(kafka.bootstrapServers(), "events", 0, 10);
            md.append(measure(plane, kafka, "idle", objects, window, false));
            md.append(measure(plane, kafka, "active", objects, window, true));
        }
        Files.writeString(results.resolve("apiserver-load-" + label + ".md"), md.toString());
        System.out.println(md);
        System.exit(0);
    }

    private static String measure(LocalControlPlane plane, EmbeddedKafka kafka, String name, int objects, Duration window,
                                  boolean active) throws Exception {
        String ns = "load-" + name;
        plane.kubectl("create", "namespace", ns);
        StringBuilder yaml = new StringBuilder();
        for (int i = 0; i < objects; i++) {
            String group = ns + "-group-" + i;
            // Active: committed at 0 with 10 records on the partition, lag 10 (above the activation threshold of 0).
            // Idle: committed at the log end, lag 0 (a group with no commit would count as lag 1, as in KEDA).
            KafkaTestData.commit(kafka.bootstrapServers(), group, Map.of(new TopicPartition("events", 0), active ? 0L : 10L));
            yaml.append(dev.lagscaler.testing.Manifests.consumerAndScaledObject(i, 0, "", kafka.bootstrapServers(), group, "events", 50));
        }
        Path file = Files.createTempFile(plane.directory(), ns + "-", ".yaml");
        Files.writeString(file, yaml.toString());
        plane.kubectl("-n", ns, "apply", "-f", file.toString());

        Map<String, LongAdder> own = new ConcurrentHashMap<>();
        ApiClient client = plane.apiClient();
        client.setReadTimeout(0);
        client.setHttpClient(client.getHttpClient().newBuilder().addInterceptor(chain -> {
            var request = chain.request();
            if (!"true".equals(request.url().queryParameter("watch"))) {
                own.computeIfAbsent(request.method(), k -> new LongAdder()).increment();
            }
            return chain.proceed(request);
        }).build());
        Map<String, Double> running;
        Map<String, Long> ownCounts = new TreeMap<>();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults());
             Operator operator = new Operator(client, engine, OperatorConfig.defaults("load-" + name)
                     .withNamespace("lagscaler-" + ns))) {
            operator.start();
            ChildProcess.await("every ScaledObject ready", Duration.ofMinutes(5), Duration.ofSeconds(1),
                    () -> readyCount(plane, ns) == objects);
            if (active) {
                ChildProcess.await("every target activated", Duration.ofMinutes(5), Duration.ofSeconds(1),
                        () -> plane.kubectl("-n", ns, "get", "deploy", "-o", "jsonpath={.items[*].spec.replicas}")
                                .trim().split(" ").length == objects
                                && !(" " + plane.kubectl("-n", ns, "get", "deploy", "-o",
                                "jsonpath={.items[*].spec.replicas}") + " ").contains(" 0 "));
            }
            Thread.sleep(10_000);
            own.clear();
            Map<String, Double> before = scrape(plane);
            Thread.sleep(window.toMillis());
            running = delta(before, scrape(plane));
            own.forEach((k, v) -> ownCounts.put(k, v.sum()));
        }
        Thread.sleep(5_000);
        Map<String, Double> before = scrape(plane);
        Thread.sleep(window.toMillis());
        Map<String, Double> stopped = delta(before, scrape(plane));

        double perMinute = 60.0 / window.toSeconds();
        Map<String, Long> operatorOnly = new TreeMap<>();
        running.forEach((k, v) -> {
            long n = Math.round((v - stopped.getOrDefault(k, 0.0)) * perMinute);
            if (n != 0) {
                operatorOnly.put(k, n);
            }
        });
        long total = operatorOnly.values().stream().mapToLong(Long::longValue).sum();
        long gets = operatorOnly.entrySet().stream().filter(e -> e.getKey().startsWith("GET ") || e.getKey().startsWith("LIST "))
                .mapToLong(Map.Entry::getValue).sum();
        long ownTotal = Math.round(ownCounts.values().stream().mapToLong(Long::longValue).sum() * perMinute);
        plane.kubectl("delete", "namespace", ns, "--wait=false");
        return "| " + objects + " " + name + " | " + total + " | " + gets + " | " + ownTotal + " " + ownCounts + " | "
                + operatorOnly + " |\n";
    }

    private static int readyCount(LocalControlPlane plane, String ns) throws Exception {
        String out = plane.kubectl("-n", ns, "get", "scaledobject", "-o",
                "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}");
        return (int) out.lines().filter(l -> l.trim().equals("True")).count();
    }

    /** apiserver_request_total summed by "VERB resource[/subresource]". */
    static Map<String, Double> scrape(LocalControlPlane plane) throws Exception {
        Map<String, Double> sums = new HashMap<>();
        for (String line : plane.kubectl("get", "--raw", "/metrics").split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            Map<String, String> labels = new HashMap<>();
            Matcher l = LABEL.matcher(m.group(1));
            while (l.find()) {
                labels.put(l.group(1), l.group(2));
            }
            String sub = labels.getOrDefault("subresource", "");
            String key = labels.get("verb") + " " + labels.get("resource") + (sub.isEmpty() ? "" : "/" + sub);
            sums.merge(key, Double.parseDouble(m.group(2)), Double::sum);
        }
        return sums;
    }

    static Map<String, Double> delta(Map<String, Double> before, Map<String, Double> after) {
        Map<String, Double> d = new HashMap<>();
        after.forEach((k, v) -> d.put(k, v - before.getOrDefault(k, 0.0)));
        return d;
    }
}
