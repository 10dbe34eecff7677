package dev.lagscaler.consumer;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * One consumer of the demo: a member of {@code group} on {@code topic} that processes at most
 * {@code recordsPerSecond} (the "work" is the time a batch takes at that rate) and commits each batch once processed.
 * The demo runs it as a pod (the consumer image, {@link ConsumerMain}) and, where no kubelet runs, as a thread per
 * replica ({@code PodRunner} in the cli).
 */
public final class RateLimitedConsumer {
    private final Properties config = new Properties();
    private final String topic;
    private final int recordsPerSecond;
    private final LongConsumer processed;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private volatile KafkaConsumer<String, String> client;
    private Duration exitWhenIdle;

    /** {@code processed} hears the size of each batch once it is processed, before its commit. */
    public RateLimitedConsumer(String bootstrap, String group, String topic, int recordsPerSecond, LongConsumer processed) {
        if (recordsPerSecond <= 0) {
            throw new IllegalArgumentException("recordsPerSecond must be positive: " + recordsPerSecond);
        }
        this.topic = topic;
        this.recordsPerSecond = recordsPerSecond;
        this.processed = processed;
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(1, recordsPerSecond / 5));
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    }

    /**
     * Batch mode, for a Job's pod (a ScaledJob's): {@link #run()} returns once no record came for {@code idle} after
     * the first one did (or for {@code idle} from the start, when the backlog was already taken by others).
     */
    public RateLimitedConsumer exitWhenIdle(Duration idle) {
        this.exitWhenIdle = idle;
        return this;
    }

    /**
     * Consumes until {@link #stop()} (or, in batch mode, until idle). Returns normally once stopped (the consumer leaves the group as it closes);
     * throws what the client threw otherwise.
     */
    public void run() throws InterruptedException {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            client = consumer;
            consumer.subscribe(List.of(topic));
            long lastRecord = System.nanoTime();
            while (!stopping.get()) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                if (records.isEmpty()) {
                    if (exitWhenIdle != null && System.nanoTime() - lastRecord > exitWhenIdle.toNanos()) {
                        return;
                    }
                    continue;
                }
                lastRecord = System.nanoTime();
                // "Processing": the time these records take at this rate (a stop waits for the batch).
                Thread.sleep(records.count() * 1000L / recordsPerSecond);
                processed.accept(records.count()); // processed; a batch redelivered after a stop counts twice
                consumer.commitSync(Duration.ofSeconds(5));
            }
        } catch (WakeupException e) {
            if (!stopping.get()) {
                throw e;
            }
        }
    }

    /** Ends a waiting poll; {@link #run()} returns after the batch in hand. Safe from any thread. */
    public void stop() {
        stopping.set(true);
        KafkaConsumer<String, String> c = client;
        if (c != null) {
            c.wakeup();
        }
    }

    public boolean stopping() {
        return stopping.get();
    }
}
