package dev.lagscaler.consumer;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer image's entry point: one {@link RateLimitedConsumer} configured from the environment
 * ({@code KAFKA_BOOTSTRAP}, {@code KAFKA_GROUP}, {@code KAFKA_TOPIC}, {@code RECORDS_PER_SECOND}, default 150). It
 * leaves the group on SIGTERM, so a pod scaled away hands its partitions over at once, and logs one line every
 * 5 s with what it processed. With {@code EXIT_WHEN_IDLE_SECONDS} it is a batch: it exits 0 once no record came
 * for that long (a ScaledJob's Job completes).
 */
public final class ConsumerMain {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerMain.class);

    private ConsumerMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        String bootstrap = required("KAFKA_BOOTSTRAP");
        String group = required("KAFKA_GROUP");
        String topic = required("KAFKA_TOPIC");
        int rate = number("RECORDS_PER_SECOND", "150");
        int idleSeconds = number("EXIT_WHEN_IDLE_SECONDS", "0");
        AtomicLong processed = new AtomicLong();
        RateLimitedConsumer consumer = new RateLimitedConsumer(bootstrap, group, topic, rate, processed::addAndGet);
        if (idleSeconds > 0) {
            consumer.exitWhenIdle(java.time.Duration.ofSeconds(idleSeconds));
        }
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            consumer.stop();
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "leave-group"));
        Thread progress = new Thread(() -> {
            long last = -1;
            while (!consumer.stopping()) {
                long now = processed.get();
                if (now != last) {
                    LOG.info("processed={} group={} topic={}", now, group, topic);
                    last = now;
                }
                try {
                    Thread.sleep(5_000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "progress");
        progress.setDaemon(true);
        progress.start();
        LOG.info("consuming bootstrap={} group={} topic={} records_per_second={}", bootstrap, group, topic, rate);
        try {
            consumer.run();
        } finally {
            LOG.info("stopped processed={}", processed.get());
            done.countDown();
        }
    }

    private static int number(String name, String fallback) {
        String value = System.getenv().getOrDefault(name, fallback);
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            System.err.println(name + " is not a number: " + value);
            System.exit(2);
            return 0;
        }
    }

    private static String required(String name) {
        String value = System.getenv(name);
        if (value == null || value.isBlank()) {
            System.err.println("the environment variable " + name + " is required");
            System.exit(2);
        }
        return value;
    }
}
