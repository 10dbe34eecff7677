package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lagscaler.adapter.ExternalMetricsServer;
import dev.lagscaler.adapter.MetricsAdapter;
import dev.lagscaler.controller.Operator;
import dev.lagscaler.controller.OperatorConfig;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.metrics.MetricsFeedServer;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import dev.lagscaler.tls.Pki;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fault case: the metrics adapter restarted while the real HPA scales on its values. While it is down (for longer
 * than 3 x pollingInterval) the HPA holds the replica count; once it is back the HPA resumes and follows the lag down.
 */
@Tag("fault")
@WithKafka
@WithControlPlane
class AdapterRestartFaultTest {
    @Test
    void theHpaHoldsWhileTheAdapterIsDownAndResumesAfter(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        String ns = "fault-adapter";
        String topic = "fault-adapter-events";
        ExternalMetricsEndToEndTest.consumerAndTopic(plane, kafka, ns, topic, "adapter-group", 8);
        Pki.Issued ca = Pki.ca("fault-adapter-ca");
        Pki.Issued serving = ExternalMetricsEndToEndTest.adapterCertificate(ca);
        ExternalMetricsServer.Options options = new ExternalMetricsServer.Options("127.0.0.1", ChildProcess.freePort(),
                serving.certificatePem(), serving.privateKeyPem());
        Map<String, Object> figures = new LinkedHashMap<>();
        var watches = plane.apiClient();
        watches.setReadTimeout(0);
        try (MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0);
             LagEngine engine = new LagEngine(LagEngine.Options.defaults());
             Operator operator = new Operator(watches, plane.apiClient(), engine, OperatorConfig.defaults("fault-adapter")
                     .withNamespace("lagscaler-fault-adapter"), feed)) {
            operator.start();
            MetricsAdapter adapter = MetricsAdapter.start(plane.apiClient(), "127.0.0.1", feed.port(), options);
            plane.registerExternalMetrics(options.port(), ca.certificatePem());
            try {
                ExternalMetricsEndToEndTest.apply(plane, ns,
                        ExternalMetricsEndToEndTest.fastHpaScaledObject(kafka.bootstrapServers(), "adapter-group", topic));
                for (int p = 0; p < 8; p++) {
                    KafkaTestData.produce(kafka.bootstrapServers(), topic, p, 30);
                }
                ChildProcess.await("the HPA at 5 (240 records / 50)", Duration.ofSeconds(120), Duration.ofMillis(300),
                        () -> ExternalMetricsEndToEndTest.replicas(plane, ns) == 5);

                // Down for 8 s (pollingInterval 2 s: its values would have gone stale meanwhile), lag drained meanwhile.
                adapter.close();
                Map<TopicPartition, Long> done = new HashMap<>();
                for (int p = 0; p < 8; p++) {
                    done.put(new TopicPartition(topic, p), 30L);
                }
                KafkaTestData.commit(kafka.bootstrapServers(), "adapter-group", done);
                int lowest = Integer.MAX_VALUE;
                long downUntil = System.nanoTime() + Duration.ofSeconds(8).toNanos();
                while (System.nanoTime() < downUntil) {
                    lowest = Math.min(lowest, ExternalMetricsEndToEndTest.replicas(plane, ns));
                    Thread.sleep(250);
                }
                assertEquals(5, lowest, "with no metrics the HPA holds its count");
                long restarted = System.nanoTime();
                adapter = MetricsAdapter.start(plane.apiClient(), "127.0.0.1", feed.port(), options);
                ChildProcess.await("the HPA resumes and follows the drained lag to 1", Duration.ofSeconds(120),
                        Duration.ofMillis(300), () -> ExternalMetricsEndToEndTest.replicas(plane, ns) == 1);
                figures.put("replicas_held_while_down", lowest);
                figures.put("down_ms", 8_000);
                figures.put("resumed_to_1_ms_after_restart", (System.nanoTime() - restarted) / 1_000_000);
            } finally {
                adapter.close();
                plane.unregisterExternalMetrics();
            }
        }
        FaultFigures.record("adapter-restart-under-hpa", figures);
    }
}
