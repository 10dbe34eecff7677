package dev.lagscaler.lag.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.KafkaCluster;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.WithKafka;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.TriggerInput;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The wake-up consumer on a real broker. */
@WithKafka
class RecordWatcherTest {
    private final KafkaCluster kafka;

    RecordWatcherTest(KafkaCluster kafka) {
        this.kafka = kafka;
    }

    /**
     * A backlog larger than one fetch (40 batches of 300 bytes; a partition's fetch is 1 KiB) is reported once: the
     * consumer moves to the log end that fetch saw. Before, it resumed behind the records it had read and reported
     * the same backlog again after every pause, a poll of the trigger each time, until the target left zero.
     */
    @Test
    void aBacklogLargerThanOneFetchIsReportedOnce() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "backlog", 1);
        TopicPartition tp = new TopicPartition("backlog", 0);
        AtomicInteger reports = new AtomicInteger();
        var connection = KafkaTriggerParser.parse(TriggerInput.ofMetadata(Map.of("bootstrapServers",
                kafka.bootstrapServers(), "consumerGroup", "backlog-app", "topic", "backlog"))).connection();
        try (RecordWatcher watcher = new RecordWatcher(connection, p -> {
            if (p.equals(tp)) {
                reports.incrementAndGet();
            }
        }, KafkaConsumer::new)) {
            watcher.watch(Set.of(tp));
            ChildProcess.await("parked on the partition", Duration.ofSeconds(20), Duration.ofMillis(20),
                    () -> watcher.watched() == 1 && watcher.fetching());
            try (KafkaProducer<String, String> producer = producer()) {
                send(producer, 1);
                ChildProcess.await("the first record reported", Duration.ofSeconds(10), Duration.ofMillis(10),
                        () -> reports.get() == 1);
                assertEquals(1L, watcher.reportedBefore(tp));
                send(producer, 40); // while the partition is paused after its report
            }
            ChildProcess.await("the backlog reported up to its end", Duration.ofSeconds(20), Duration.ofMillis(20),
                    () -> Long.valueOf(41).equals(watcher.reportedBefore(tp)));
            assertTrue(reports.get() <= 3, "the backlog of 40 batches was reported " + (reports.get() - 1)
                    + " times; at most twice (once more if the sends outlasted the pause)");
        }
    }

    private KafkaProducer<String, String> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        return new KafkaProducer<>(p);
    }

    /** {@code count} records of 300 bytes, each in a batch of its own. */
    private static void send(KafkaProducer<String, String> producer, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            producer.send(new ProducerRecord<>("backlog", 0, null, "x".repeat(300))).get();
        }
    }
}
