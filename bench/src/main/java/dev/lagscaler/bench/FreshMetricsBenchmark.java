package dev.lagscaler.bench;

import static dev.lagscaler.bench.BenchKafka.log;

import dev.lagscaler.Defaults;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.TriggerInput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * How old the value the HPA reads is, and what it costs in Kafka requests, for active targets: polled every
 * pollingInterval (30 s: {@code useCachedMetrics: true}, and what every active target did before) against polled
 * every {@link Defaults#FRESH_METRIC_INTERVAL} ({@code useCachedMetrics: false}, KEDA's default), at 1 and 1,000
 * active objects, on one real broker, in one run. The age is sampled every 100 ms for every trigger (the HPA asks at
 * instants unrelated to the polls), from the engine's results as the operator receives them.
 *
 * <p>Arguments (optional): counts (comma-separated, default 1,1000), seconds per run (default 60).
 */
public final class FreshMetricsBenchmark {
    public static void main(String[] args) throws Exception {
        List<Integer> counts = new ArrayList<>();
        for (String c : (args.length > 0 ? args[0] : "1,1000").split(",")) {
            counts.add(Integer.parseInt(c.trim()));
        }
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        Path results = Path.of(System.getProperty("bench.results", "bench/results"));
        Files.createDirectories(results);
        int most = Collections.max(counts);
        List<Row> rows = new ArrayList<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode().withHeap("1g"))) {
            String bootstrap = kafka.bootstrapServers();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "600000"))) {
                List<String> topics = new ArrayList<>();
                Map<String, Map<TopicPartition, OffsetAndMetadata>> offsets = new HashMap<>();
                for (int i = 0; i < most; i++) {
                    topics.add("fresh-" + i);
                    offsets.put("fresh-group-" + i, Map.of(new TopicPartition("fresh-" + i, 0), new OffsetAndMetadata(0)));
                }
                BenchKafka.createTopics(admin, topics, 1, 50);
                BenchKafka.commitUntilAccepted(admin, offsets, Duration.ofSeconds(5));
            }
            for (int count : counts) {
                List<KafkaTriggerSettings> triggers = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    triggers.add(KafkaTriggerParser.parse(TriggerInput.ofMetadata(Map.of("bootstrapServers", bootstrap,
                            "consumerGroup", "fresh-group-" + i, "topic", "fresh-" + i))));
                }
                rows.add(run("useCachedMetrics: true (pollingInterval 30 s)", triggers, Defaults.POLLING_INTERVAL, seconds));
                rows.add(run("useCachedMetrics: false (fresh, every " + Defaults.FRESH_METRIC_INTERVAL.toSeconds() + " s)",
                        triggers, Defaults.FRESH_METRIC_INTERVAL, seconds));
            }
        }
        write(results.resolve("fresh-metrics.md"), rows, seconds);
        System.exit(0);
    }

    record Row(String mode, int objects, long p50Millis, long p95Millis, long maxMillis, double requestsPerMinute,
               long polls) {
    }

    private static Row run(String mode, List<KafkaTriggerSettings> triggers, Duration interval, int seconds)
            throws Exception {
        log("%s, %d active objects, %d s", mode, triggers.size(), seconds);
        Map<TriggerKey, Instant> measuredAt = new ConcurrentHashMap<>();
        AtomicLong requests = new AtomicLong();
        AtomicLong polls = new AtomicLong();
        List<Long> ages = new ArrayList<>();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults())) {
            engine.addPollListener(stats -> {
                requests.addAndGet(stats.kafkaRequests());
                polls.incrementAndGet();
            });
            for (int i = 0; i < triggers.size(); i++) {
                engine.register(new TriggerKey("bench", "so-" + i, 0), triggers.get(i), interval, r -> {
                    if (r instanceof TriggerResult.Measured) {
                        measuredAt.put(r.key(), r.at());
                    }
                });
            }
            // Settled once every trigger has a first value; requests and ages count from then.
            Instant deadline = Instant.now().plusSeconds(120);
            while (measuredAt.size() < triggers.size() && Instant.now().isBefore(deadline)) {
                Thread.sleep(100); // the benchmark's sampling clock, not a wait for a condition in a test
            }
            requests.set(0);
            polls.set(0);
            Instant end = Instant.now().plusSeconds(seconds);
            while (Instant.now().isBefore(end)) {
                Instant now = Instant.now();
                for (Instant at : measuredAt.values()) {
                    ages.add(Duration.between(at, now).toMillis());
                }
                Thread.sleep(100);
            }
        }
        ages.sort(null);
        Row row = new Row(mode, triggers.size(), ages.get(ages.size() / 2), ages.get((int) (ages.size() * 0.95)),
                ages.get(ages.size() - 1), requests.get() * 60.0 / seconds, polls.get());
        log("  age p50 %d ms, p95 %d ms, max %d ms; %.1f Kafka requests a minute over %d polls", row.p50Millis(),
                row.p95Millis(), row.maxMillis(), row.requestsPerMinute(), row.polls());
        return row;
    }

    private static void write(Path file, List<Row> rows, int seconds) throws Exception {
        StringBuilder md = new StringBuilder();
        md.append("# Fresh values for the HPA: useCachedMetrics\n\n");
        md.append("Active targets' kafka triggers polled by the shared engine on one real broker, one topic and group per object, ")
                .append(seconds).append(" s a run, measured ").append(Instant.now()).append(" on ")
                .append(Runtime.getRuntime().availableProcessors()).append(" cores (`bench/fresh-metrics.sh`). Age: how old the ")
                .append("value the HPA would read was, sampled every 100 ms for every object.\n\n");
        md.append("| mode | active objects | age p50 | age p95 | age max | Kafka requests / min | polls |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            md.append(String.format("| %s | %d | %.1f s | %.1f s | %.1f s | %.0f | %d |%n", r.mode(), r.objects(),
                    r.p50Millis() / 1000.0, r.p95Millis() / 1000.0, r.maxMillis() / 1000.0, r.requestsPerMinute(), r.polls()));
        }
        Files.writeString(file, md.toString());
        log("wrote %s", file);
    }
}
