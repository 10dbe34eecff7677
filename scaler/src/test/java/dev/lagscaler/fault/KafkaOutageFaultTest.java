package dev.lagscaler.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.auth.KafkaClientConfig;
import dev.lagscaler.controller.Operator;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fault case: every broker down mid-scale, then back. Never to zero; Fallback after failureThreshold at the
 * fallback count; recovers by itself; the connections the operator opens during the outage are counted and bounded
 * (no storm: one Admin client per cluster, reconnecting with backoff). CI runs a 20 s outage;
 * {@code -Dlagscaler.fault.outageSeconds=120} runs the two minutes.
 */
@Tag("fault")
@WithKafka
@WithControlPlane
class KafkaOutageFaultTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void anOutageFallsBackNeverScalesToZeroAndRecovers(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        int outageSeconds = Integer.getInteger("lagscaler.fault.outageSeconds", 20);
        String ns = "fault-outage";
        String topic = "fault-outage-events";
        plane.kubectl("create", "namespace", ns);
        plane.kubectl("-n", ns, "create", "deployment", "consumer-deployment", "--image=consumer:1.0", "--replicas=0");
        KafkaTestData.createTopic(kafka.bootstrapServers(), topic, 4);
        KafkaTestData.commit(kafka.bootstrapServers(), "outage-group", Map.of(new TopicPartition(topic, 0), 0L));
        KafkaTestData.produce(kafka.bootstrapServers(), topic, 0, 60);

        // Every Admin client the engine makes, and the most connections each reported having opened.
        List<Admin> admins = new CopyOnWriteArrayList<>();
        Map<Admin, Double> connectionsOpened = new ConcurrentHashMap<>();
        AtomicInteger ids = new AtomicInteger();
        LagEngine.Options options = new LagEngine.Options(c -> {
            Admin a = Admin.create(KafkaClientConfig.admin(c, "fault-outage-" + ids.incrementAndGet()));
            admins.add(a);
            return a;
        }, 1000, Duration.ofSeconds(30), Duration.ofSeconds(3), 2, java.time.Clock.systemUTC());
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(() -> admins.forEach(a -> connectionsOpened.merge(a, connectionsCreated(a), Math::max)),
                0, 200, TimeUnit.MILLISECONDS);
        Map<String, Object> figures = new LinkedHashMap<>();
        try (LagEngine engine = new LagEngine(options);
             Operator operator = FaultSupport.operator(plane, engine, "fault-outage")) {
            operator.start();
            FaultSupport.apply(plane, ns, FaultSupport.scaledObject(kafka.bootstrapServers(), "outage-group", topic,
                    "fallback: {failureThreshold: 3, replicas: 3}"));
            ChildProcess.await("active", Duration.ofSeconds(60), Duration.ofMillis(100), () -> FaultSupport.replicas(plane, ns) >= 1
                    && FaultSupport.condition(plane, ns, "Active").equals("True"));
            double before = connections(connectionsOpened);
            int adminsBefore = admins.size();
            long stopped = System.nanoTime();
            kafka.stop();
            long fallbackAt = -1;
            int minimum = Integer.MAX_VALUE;
            try {
                // The outage lasts outageSeconds, and at least until Fallback engaged (at most 90 s in all).
                while (System.nanoTime() - stopped < Duration.ofSeconds(outageSeconds).toNanos()
                        || (fallbackAt < 0 && System.nanoTime() - stopped < Duration.ofSeconds(90).toNanos())) {
                    int r = FaultSupport.replicas(plane, ns);
                    minimum = Math.min(minimum, r);
                    assertTrue(r != 0, "an outage never scales to zero");
                    if (fallbackAt < 0 && r == 3 && FaultSupport.condition(plane, ns, "Fallback").equals("True")) {
                        fallbackAt = (System.nanoTime() - stopped) / 1_000_000;
                    }
                    Thread.sleep(250);
                }
            } finally {
                kafka.restart();
            }
            double during = connections(connectionsOpened) - before;
            int adminsDuring = admins.size() - adminsBefore;
            long outage = (System.nanoTime() - stopped) / 1_000_000;
            long restarted = System.nanoTime();
            ChildProcess.await("recovered: Fallback False, Ready True", Duration.ofSeconds(90), Duration.ofMillis(200),
                    () -> FaultSupport.condition(plane, ns, "Fallback").equals("False") && FaultSupport.condition(plane, ns, "Ready").equals("True"));
            long recovered = (System.nanoTime() - restarted) / 1_000_000;
            Thread.sleep(5_000);
            double after = connections(connectionsOpened) - before - during;
            assertTrue(fallbackAt > 0, "Fallback engaged at fallback.replicas during the outage");
            assertTrue(FaultSupport.replicas(plane, ns) > 0);
            // One cluster, one Admin client at a time: during the outage it is rebuilt at most once per failed poll.
            assertTrue(adminsDuring <= outage / 2_000 + 1, adminsDuring + " Admin clients made in a " + outage + " ms outage");
            assertTrue(during <= outage / 250.0, during + " connections opened in a " + outage + " ms outage");
            figures.put("outage_ms", outage);
            figures.put("never_zero_min_replicas", minimum);
            figures.put("fallback_engaged_ms_after_stop", fallbackAt);
            figures.put("recovered_ms_after_restart", recovered);
            figures.put("admin_clients_made_during_outage", adminsDuring);
            figures.put("connections_opened_during_outage", (long) during);
            figures.put("connections_opened_5s_after", (long) after);
        } finally {
            sampler.shutdownNow();
        }
        FaultFigures.record("kafka-outage", figures);
    }

    private static double connections(Map<Admin, Double> opened) {
        return opened.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    private static double connectionsCreated(Admin admin) {
        try {
            for (Map.Entry<MetricName, ? extends Metric> e : admin.metrics().entrySet()) {
                if (e.getKey().name().equals("connection-creation-total") && e.getKey().group().equals("admin-client-metrics")) {
                    return ((Number) e.getValue().metricValue()).doubleValue();
                }
            }
        } catch (RuntimeException e) {
            // closed while sampled
        }
        return 0;
    }

}
