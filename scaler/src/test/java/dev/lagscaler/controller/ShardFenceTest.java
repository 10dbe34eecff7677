package dev.lagscaler.controller;

import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import io.kubernetes.client.openapi.ApiClient;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A sharded replica whose Lease renewal is late is fenced: it acts on nothing until the renewal lands. A reconcile
 * that falls in that window (here, a spec change) must not take the object for another replica's and drop its
 * triggers: no change of share follows to bring them back, so the target would wait at zero for the informer's
 * 5-minute resync with records waiting. Under load (three 400 MB heaps on two cores, 10,000 objects) renewals ran a few
 * seconds late, and targets were found not waking a minute after their records.
 */
@WithKafka
@WithControlPlane
class ShardFenceTest {
    private static final Duration LEASE = Duration.ofSeconds(6); // fenced 4 s after the last renewal began

    @Test
    void aReconcileWhileTheLeaseIsLateKeepsTheObjectsTriggers(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        OperatorTestSupport support = new OperatorTestSupport(plane);
        String ns = "fence";
        support.setUp(ns, kafka.bootstrapServers(), "fence-events", 1);

        // The replica's own requests; its Lease renewals wait at the gate while one is set (until the test opens it),
        // as a loaded apiserver or a collecting heap holds them.
        AtomicReference<CountDownLatch> gate = new AtomicReference<>();
        ApiClient requests = plane.apiClient();
        requests.setReadTimeout(0);
        requests.setHttpClient(requests.getHttpClient().newBuilder().addInterceptor(chain -> {
            CountDownLatch closed = gate.get();
            if (closed != null && chain.request().method().equals("PUT")
                    && chain.request().url().pathSegments().contains("leases")) {
                try {
                    closed.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return chain.proceed(chain.request());
        }).build());
        ApiClient watches = plane.apiClient();
        watches.setReadTimeout(0);

        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(3)))) {
            Operator operator = new Operator(watches, requests, engine, OperatorConfig.defaults("fence-0")
                    .withNamespace("lagscaler-fence").withLeaseDuration(LEASE)
                    .withSharding(new OperatorConfig.Sharding(false)), dev.lagscaler.metrics.MetricsSink.NONE);
            try {
                operator.start();
                ChildProcess.await("the replica settled alone", Duration.ofSeconds(30), Duration.ofMillis(100),
                        operator::shardSettled);
                support.apply(ns, OperatorTestSupport.seed(kafka.bootstrapServers(), "fence-events", "", ""));
                ChildProcess.await("at zero, waiting on the wake-up consumer", Duration.ofSeconds(60), Duration.ofMillis(100),
                        () -> support.replicas(ns) == 0 && support.get(ns, "scaledobject", "kafka-scaledobject")
                                .path("status").path("activation").asText().contains("wake-up consumer"));

                gate.set(new CountDownLatch(1));
                ChildProcess.await("fenced: the renewal is late", Duration.ofSeconds(30), Duration.ofMillis(50),
                        () -> !operator.shardSettled());
                long before = operator.reconcilePasses();
                support.apply(ns, OperatorTestSupport.seed(kafka.bootstrapServers(), "fence-events", "maxReplicaCount: 7", ""));
                ChildProcess.await("a reconcile pass while fenced", Duration.ofSeconds(10), Duration.ofMillis(20),
                        () -> operator.reconcilePasses() > before && !operator.shardSettled());
                gate.getAndSet(null).countDown();
                ChildProcess.await("renewed: settled again", Duration.ofSeconds(30), Duration.ofMillis(50),
                        operator::shardSettled);

                // The first record still wakes the target (a forgotten trigger is neither polled nor watched).
                KafkaTestData.produce(kafka.bootstrapServers(), "fence-events", 0, 1);
                ChildProcess.await("scaled from zero on the record", Duration.ofSeconds(30), Duration.ofMillis(50),
                        () -> support.replicas(ns) >= 1);
                // The spec change the fence held back went through once it lifted.
                ChildProcess.await("the held-back spec change applied", Duration.ofSeconds(30), Duration.ofMillis(100),
                        () -> support.get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("spec").path("maxReplicas").asInt() == 7);
            } finally {
                CountDownLatch open = gate.getAndSet(null);
                if (open != null) {
                    open.countDown();
                }
                operator.close();
            }
        }
    }
}
