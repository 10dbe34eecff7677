package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.adapter.ExternalMetricsServer;
import dev.lagscaler.adapter.MetricsAdapter;
import dev.lagscaler.controller.OperatorCommand;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import dev.lagscaler.tls.Pki;
import io.vertx.core.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fault case, the whole metric path: two operator processes (leader and standby), one adapter given both feeds (as
 * behind the operator Service), kube-controller-manager's real HPA scaling on the adapter's values. The leader is
 * killed with SIGKILL while a backlog holds the HPA at 5: the HPA holds (the adapter answers errors while it has no
 * leader's snapshot), the metric is served again once the standby leads, and the HPA follows the drained lag down.
 */
@Tag("fault")
@WithKafka
@WithControlPlane
class LeaderKillUnderHpaFaultTest {
    private static final String LEASE_NAMESPACE = "lagscaler-fault-ha";
    /** Leader kills while the backlog holds the HPA: 1 in CI, {@code -Dlagscaler.fault.leaderKills=20} for the p95. */
    private static final int KILLS = Integer.getInteger("lagscaler.fault.leaderKills", 1);

    @Test
    void theHpaHoldsThroughALeaderKillAndResumesOnTheNewLeader(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        String ns = "fault-ha";
        String topic = "fault-ha-events";
        ExternalMetricsEndToEndTest.consumerAndTopic(plane, kafka, ns, topic, "ha-group", 8);
        Pki.Issued ca = Pki.ca("fault-ha-ca");
        Pki.Issued serving = ExternalMetricsEndToEndTest.adapterCertificate(ca);
        Path logs = Files.createTempDirectory("ha-operators-");
        Map<String, Process> operators = new HashMap<>();
        Map<String, Integer> feeds = new LinkedHashMap<>();
        Map<String, Object> figures = new LinkedHashMap<>();
        try {
            for (String id : List.of("ha-a", "ha-b")) {
                int feed = ChildProcess.freePort();
                feeds.put(id, feed);
                operators.put(id, startOperator(id, feed, plane, logs));
            }
            List<SocketAddress> both = feeds.values().stream().map(p -> SocketAddress.inetSocketAddress(p, "127.0.0.1")).toList();
            try (MetricsAdapter adapter = MetricsAdapter.start(plane.apiClient(), both, new ExternalMetricsServer.Options(
                    "127.0.0.1", 0, serving.certificatePem(), serving.privateKeyPem()))) {
                plane.registerExternalMetrics(adapter.port(), ca.certificatePem());
                try {
                    ExternalMetricsEndToEndTest.apply(plane, ns,
                            ExternalMetricsEndToEndTest.fastHpaScaledObject(kafka.bootstrapServers(), "ha-group", topic));
                    for (int p = 0; p < 8; p++) {
                        KafkaTestData.produce(kafka.bootstrapServers(), topic, p, 30);
                    }
                    ChildProcess.await("the HPA at 5 (240 records / 50)", Duration.ofSeconds(120), Duration.ofMillis(300),
                            () -> ExternalMetricsEndToEndTest.replicas(plane, ns) == 5);
                    String leader = holder(plane);
                    List<Long> takeovers = new java.util.ArrayList<>();
                    List<Long> servedAgain = new java.util.ArrayList<>();
                    int lowest = Integer.MAX_VALUE;
                    for (int kill = 0; kill < KILLS; kill++) {
                        String standby = leader.equals("ha-a") ? "ha-b" : "ha-a";
                        long killed = System.nanoTime();
                        operators.get(leader).destroyForcibly().waitFor();
                        long takeover = -1;
                        long served = -1;
                        while (served < 0 && System.nanoTime() - killed < Duration.ofSeconds(90).toNanos()) {
                            lowest = Math.min(lowest, ExternalMetricsEndToEndTest.replicas(plane, ns));
                            if (takeover < 0 && holder(plane).equals(standby)) {
                                takeover = (System.nanoTime() - killed) / 1_000_000;
                            }
                            if (takeover >= 0 && metricServed(plane, ns)) {
                                served = (System.nanoTime() - killed) / 1_000_000;
                            }
                            Thread.sleep(250);
                        }
                        takeovers.add(takeover);
                        servedAgain.add(served);
                        // The killed one comes back as the standby of the next round.
                        operators.put(leader, startOperator(leader, feeds.get(leader), plane, logs));
                        leader = standby;
                    }
                    assertEquals(5, lowest, "the HPA holds while no leader serves the metric");
                    assertTrue(servedAgain.stream().allMatch(ms -> ms > 0), "served again after every kill: " + servedAgain);
                    figures.put("kills", KILLS);
                    figures.put("takeovers_ms", takeovers);
                    figures.put("takeover_p95_ms", FaultFigures.percentile(takeovers, 0.95));
                    figures.put("metric_served_again_ms", servedAgain);
                    figures.put("metric_served_again_p95_ms", FaultFigures.percentile(servedAgain, 0.95));
                    figures.put("replicas_held", lowest);

                    Map<TopicPartition, Long> done = new HashMap<>();
                    for (int p = 0; p < 8; p++) {
                        done.put(new TopicPartition(topic, p), 30L);
                    }
                    KafkaTestData.commit(kafka.bootstrapServers(), "ha-group", done);
                    long drained = System.nanoTime();
                    ChildProcess.await("the HPA follows the new leader's values down to 1", Duration.ofSeconds(120),
                            Duration.ofMillis(300), () -> ExternalMetricsEndToEndTest.replicas(plane, ns) == 1);
                    figures.put("drained_to_1_ms", (System.nanoTime() - drained) / 1_000_000);
                } finally {
                    plane.unregisterExternalMetrics();
                }
            }
        } finally {
            operators.values().forEach(p -> ChildProcess.stop(p, Duration.ofSeconds(10)));
            ChildProcess.deleteRecursively(logs);
        }
        FaultFigures.record("leader-kill-under-real-hpa" + (KILLS == 1 ? "" : "-" + KILLS + "-kills"), figures);
    }

    private static Process startOperator(String id, int feed, LocalControlPlane plane, Path logs) throws Exception {
        return ChildProcess.start(List.of(ChildProcess.javaExecutable(), "-cp", ChildProcess.absoluteClassPath(),
                OperatorCommand.class.getName(), "--kubeconfig", plane.kubeconfig().toString(),
                "--namespace", LEASE_NAMESPACE, "--identity", id, "--metrics-feed", "127.0.0.1:" + feed,
                "--health-address", "off", "--metrics-address", "off"), logs, logs.resolve(id + "-" + System.nanoTime() + ".log"));
    }

    private static boolean metricServed(LocalControlPlane plane, String ns) {
        try {
            plane.kubectl("get", "--raw", "/apis/external.metrics.k8s.io/v1beta1/namespaces/" + ns
                    + "/s0-kafka-fault-ha-events?labelSelector=scaledobject.keda.sh%2Fname%3Dkafka-scaledobject");
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static String holder(LocalControlPlane plane) {
        try {
            return plane.kubectl("-n", LEASE_NAMESPACE, "get", "lease", "lagscaler-operator",
                    "-o", "jsonpath={.spec.holderIdentity}").trim();
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
