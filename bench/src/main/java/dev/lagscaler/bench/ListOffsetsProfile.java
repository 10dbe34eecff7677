package dev.lagscaler.bench;

import dev.lagscaler.testing.EmbeddedKafka;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/**
 * Where one {@code Admin.listOffsets} call over many partitions spends its time: a single broker, {@code topics} ×
 * {@code perTopic} partitions, the call repeated; run under JFR by {@code bench/profile-list-offsets.sh}, which prints
 * the hottest frames. Arguments: topics (1000), partitions per topic (10), calls (30).
 */
public final class ListOffsetsProfile {
    private ListOffsetsProfile() {
    }

    public static void main(String[] args) throws Exception {
        int topics = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int perTopic = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int calls = args.length > 2 ? Integer.parseInt(args[2]) : 30;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode().withHeap("2g"));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                     AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "600000"))) {
            for (int from = 0; from < topics; from += 100) {
                List<NewTopic> batch = new ArrayList<>();
                for (int i = from; i < Math.min(topics, from + 100); i++) {
                    batch.add(new NewTopic("profile-" + i, perTopic, (short) 1));
                }
                admin.createTopics(batch).all().get(10, TimeUnit.MINUTES);
            }
            Map<TopicPartition, OffsetSpec> wanted = new HashMap<>();
            for (int i = 0; i < topics; i++) {
                for (int p = 0; p < perTopic; p++) {
                    wanted.put(new TopicPartition("profile-" + i, p), OffsetSpec.latest());
                }
            }
            for (int attempt = 0; ; attempt++) {
                try {
                    admin.listOffsets(wanted).all().get(2, TimeUnit.MINUTES);
                    break;
                } catch (Exception e) {
                    if (attempt > 30) {
                        throw e;
                    }
                    Thread.sleep(2000);
                }
            }
            List<Long> millis = new ArrayList<>();
            for (int i = 0; i < calls; i++) {
                long t = System.nanoTime();
                admin.listOffsets(wanted).all().get(2, TimeUnit.MINUTES);
                millis.add((System.nanoTime() - t) / 1_000_000);
            }
            System.out.println("listOffsets over " + wanted.size() + " partitions (" + topics + " topics), ms: " + millis);
            // The same question through a consumer's endOffsets (HashMap-based grouping by leader).
            java.util.Properties p = new java.util.Properties();
            p.put("bootstrap.servers", kafka.bootstrapServers());
            p.put("key.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName());
            p.put("value.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName());
            try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(p)) {
                List<Long> endMillis = new ArrayList<>();
                consumer.endOffsets(wanted.keySet(), java.time.Duration.ofMinutes(2));
                for (int i = 0; i < calls; i++) {
                    long t = System.nanoTime();
                    consumer.endOffsets(wanted.keySet(), java.time.Duration.ofMinutes(2));
                    endMillis.add((System.nanoTime() - t) / 1_000_000);
                }
                System.out.println("listOffsets: consumer endOffsets over " + wanted.size() + " partitions, ms: " + endMillis);
            }
        }
    }
}
