package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.metrics.OperatorMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The work queue's delayed adds: every one arrives, however many are made at once. */
class MeasuredQueueTest {
    private static final int ITEMS = 20_000;

    @Test
    void twentyThousandDelayedAddsAtOnceAllArrive() throws Exception {
        ExecutorService loop = Executors.newSingleThreadExecutor();
        MeasuredQueue<Integer> queue = new MeasuredQueue<>(loop, new OperatorMetrics(new PrometheusRegistry(), false));
        try {
            // Four workers requeue at once, as after a pass over a whole share that met the fence.
            ExecutorService workers = Executors.newFixedThreadPool(4);
            for (int w = 0; w < 4; w++) {
                int from = w * (ITEMS / 4);
                workers.execute(() -> {
                    for (int i = from; i < from + ITEMS / 4; i++) {
                        if (i % 2 == 0) {
                            queue.addAfter(i, Duration.ofMillis(50));
                        } else {
                            queue.addRateLimited(i); // the first retry: 200 ms
                        }
                    }
                });
            }
            workers.shutdown();
            assertTrue(workers.awaitTermination(30, TimeUnit.SECONDS));

            // A worker takes what arrives (get() waits on the queue itself); the test waits until all have.
            Set<Integer> arrived = java.util.concurrent.ConcurrentHashMap.newKeySet();
            java.util.concurrent.CountDownLatch all = new java.util.concurrent.CountDownLatch(ITEMS);
            Thread taker = new Thread(() -> {
                try {
                    for (Integer item = queue.get(); item != null; item = queue.get()) {
                        if (arrived.add(item)) {
                            all.countDown();
                        }
                        queue.done(item);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "taker");
            taker.start();
            all.await(30, TimeUnit.SECONDS);
            assertEquals(ITEMS, arrived.size(), "delayed adds that arrived");
            assertEquals(0, queue.delayed());
        } finally {
            queue.shutDown();
            loop.shutdownNow();
        }
    }

    @Test
    void anItemAddedAgainLaterArrivesOnceAtTheEarlierTime() throws Exception {
        ExecutorService loop = Executors.newSingleThreadExecutor();
        MeasuredQueue<String> queue = new MeasuredQueue<>(loop, new OperatorMetrics(new PrometheusRegistry(), false));
        try {
            long started = System.nanoTime();
            queue.addAfter("so", Duration.ofSeconds(30));
            queue.addAfter("so", Duration.ofMillis(100));
            queue.addAfter("so", Duration.ofSeconds(10));
            assertEquals("so", queue.get());
            long waitedMillis = (System.nanoTime() - started) / 1_000_000;
            assertTrue(waitedMillis >= 100 && waitedMillis < 10_000, waitedMillis + " ms");
            queue.done("so");
            assertEquals(0, queue.delayed(), "the later adds were dropped for the earlier one");
            assertEquals(0, queue.length(), "and not queued twice");
        } finally {
            queue.shutDown();
            loop.shutdownNow();
        }
    }
}
