package dev.lagscaler.cli.demo;

import dev.lagscaler.consumer.RateLimitedConsumer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * Stands in for the kubelet in the demo and the tests, and only there: no kubelet runs on the local control plane,
 * so this keeps as many real Kafka consumers in the group as the Deployment's {@code spec.replicas} asks for, each
 * processing at most {@code recordsPerSecond} and committing what it processed, starting and stopping them as the
 * replica count changes (within about a quarter of a second).
 */
public final class PodRunner implements AutoCloseable {
    private final String bootstrap;
    private final String group;
    private final String topic;
    private final int recordsPerSecond;
    private final IntSupplier replicas;
    private final Deque<Consumer> running = new ArrayDeque<>();
    private final AtomicLong consumed = new AtomicLong();
    private final Thread watcher;
    private volatile boolean closed;
    private int nextId;

    public PodRunner(String bootstrap, String group, String topic, int recordsPerSecond, IntSupplier replicas) {
        this.bootstrap = bootstrap;
        this.group = group;
        this.topic = topic;
        this.recordsPerSecond = recordsPerSecond;
        this.replicas = replicas;
        this.watcher = new Thread(this::follow, "pod-runner");
        this.watcher.setDaemon(true);
    }

    public PodRunner start() {
        watcher.start();
        return this;
    }

    /** Consumers running now. */
    public synchronized int running() {
        return running.size();
    }

    /** Records processed by every consumer so far (at least once: redelivered records count again). */
    public long consumed() {
        return consumed.get();
    }

    private void follow() {
        while (!closed) {
            int wanted;
            try {
                wanted = Math.max(0, replicas.getAsInt());
            } catch (RuntimeException e) {
                wanted = -1; // the apiserver did not answer: keep what runs
            }
            if (wanted >= 0) {
                resize(wanted);
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void resize(int wanted) {
        while (running.size() < wanted && !closed) {
            Consumer c = new Consumer(++nextId);
            running.push(c);
            c.thread.start();
        }
        while (running.size() > wanted) {
            running.pop().stop();
        }
    }

    @Override
    public void close() {
        closed = true;
        watcher.interrupt();
        synchronized (this) {
            while (!running.isEmpty()) {
                running.pop().stop();
            }
        }
    }

    /** One "pod": a {@link RateLimitedConsumer} on its own thread. */
    private final class Consumer {
        final Thread thread;
        final RateLimitedConsumer client;

        Consumer(int id) {
            client = new RateLimitedConsumer(bootstrap, group, topic, recordsPerSecond, consumed::addAndGet);
            thread = new Thread(this::run, "consumer-" + id);
            thread.setDaemon(true);
        }

        void run() {
            try {
                client.run();
            } catch (InterruptedException e) {
                // Stopped: the pod goes away, as a terminated container would.
            } catch (RuntimeException e) {
                if (!client.stopping()) {
                    org.slf4j.LoggerFactory.getLogger(PodRunner.class).atWarn().addKeyValue("error", e.toString())
                            .log("demo consumer failed");
                }
            }
        }

        void stop() {
            client.stop(); // ends a waiting poll; the consumer then leaves the group as it closes (no interrupt)
        }
    }
}
