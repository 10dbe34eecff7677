package dev.lagscaler.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;

/** Setting up many topics and consumer groups on a benchmark's cluster. */
final class BenchKafka {
    private BenchKafka() {
    }

    /** Creates the topics, {@code batch} per request, each with {@code partitions} partitions. */
    static void createTopics(Admin admin, List<String> names, int partitions, int batch) throws Exception {
        for (int from = 0; from < names.size(); from += batch) {
            List<NewTopic> topics = new ArrayList<>();
            for (String name : names.subList(from, Math.min(names.size(), from + batch))) {
                topics.add(new NewTopic(name, partitions, (short) 1));
            }
            admin.createTopics(topics).all().get(10, TimeUnit.MINUTES);
            log("created %d topics", Math.min(names.size(), from + batch));
        }
    }

    /**
     * Commits each group's offsets, retrying the groups that failed every {@code pause} (up to 60 times): topics exist
     * in the controller's metadata before every broker hosts them.
     */
    static void commitUntilAccepted(Admin admin, Map<String, Map<TopicPartition, OffsetAndMetadata>> byGroup,
                                    Duration pause) throws Exception {
        List<String> pending = new ArrayList<>(byGroup.keySet());
        for (int attempt = 0; !pending.isEmpty(); attempt++) {
            if (attempt > 60) {
                throw new IllegalStateException(pending.size() + " groups could not commit");
            }
            Map<String, KafkaFuture<Void>> commits = new HashMap<>();
            for (String group : pending) {
                commits.put(group, admin.alterConsumerGroupOffsets(group, byGroup.get(group)).all());
            }
            pending.clear();
            for (Map.Entry<String, KafkaFuture<Void>> e : commits.entrySet()) {
                try {
                    e.getValue().get(10, TimeUnit.MINUTES);
                } catch (Exception failed) {
                    pending.add(e.getKey());
                }
            }
            if (!pending.isEmpty()) {
                log("%d groups not committed yet; retrying", pending.size());
                Thread.sleep(pause.toMillis());
            }
        }
    }

    static void log(String format, Object... args) {
        System.err.printf("[bench %s] %s%n", Instant.now(), String.format(format, args));
    }
}
