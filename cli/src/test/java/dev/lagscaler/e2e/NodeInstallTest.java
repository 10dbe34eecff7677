package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lagscaler.testing.ChartRelease;
import dev.lagscaler.testing.DevScripts;
import dev.lagscaler.testing.Images;
import dev.lagscaler.testing.KafkaCluster;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.LocalNode;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The chart installed as a user installs it, on a real node: images built from deploy/*.Dockerfile, {@code helm
 * install} with the chart's defaults (2 operators, 2 adapters, the feed over mutual TLS, the webhook), then a
 * ScaledObject on a Deployment of real consumer pods: 0 → N → 0 while the topic drains, the HPA reading the lag
 * through the APIService from the adapter pods; the leading operator's pod deleted, its standby taking over and
 * scaling from zero again; {@code helm uninstall} leaving none of the chart's objects. The figures it measures go to
 * {@code bench/results/node-install.json}.
 */
@Tag("node")
@WithControlPlane(node = true)
@WithKafka(onNode = true)
class NodeInstallTest {
    private static final String NS = ChartRelease.NAMESPACE;
    private static final String APP_NS = "shop";
    private static final String TOPIC = "orders";
    private static final String GROUP = "orders-consumers";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theChartRunsOnANodeScalesPodsZeroToNAndBackHandsOverAndUninstallsClean(LocalControlPlane plane, KafkaCluster kafka)
            throws Exception {
        Map<String, Object> figures = new TreeMap<>();
        ChartRelease release = ChartRelease.install(plane);
        figures.put("images", Images.sizes());
        figures.put("install_to_all_ready_ms", release.installToReady().toMillis());
        JsonNode pods = json(plane, "-n", NS, "get", "pods");
        assertEquals(4, pods.path("items").size(), "2 operators and 2 adapters: " + names(pods));
        // The feed the chart sets up is mutual TLS on the real pods: the adapters are fed (the APIService is
        // Available and serves values below), and a client without the adapter's certificate is refused.
        String operatorIp = plane.kubectl("-n", NS, "get", "pod", "lagscaler-operator-0",
                "-o", "jsonpath={.status.podIP}").trim();
        figures.put("feed_refuses_a_client_without_certificate", feedRefusesClientWithoutCertificate(operatorIp));
        assertTrue((Boolean) figures.get("feed_refuses_a_client_without_certificate"),
                "the operator's feed at " + operatorIp + ":9090 answered a client that presented no certificate");

        KafkaTestData.createTopic(kafka.bootstrapServers(), TOPIC, 4);
        plane.kubectl("create", "namespace", APP_NS);
        ExternalMetricsEndToEndTest.apply(plane, APP_NS, ChartRelease.consumerDeployment("consumer-deployment",
                kafka.bootstrapServers(), GROUP, TOPIC, 150));
        ExternalMetricsEndToEndTest.apply(plane, APP_NS, ExternalMetricsEndToEndTest.scaledObject("""
                pollingInterval: 5
                cooldownPeriod: 10
                minReplicaCount: 0
                maxReplicaCount: 4
                """ + ExternalMetricsEndToEndTest.FAST_HPA, kafka.bootstrapServers(), GROUP, TOPIC,
                "lagThreshold: \"200\", activationLagThreshold: \"0\""));
        NodeChecks.await(plane, "the ScaledObject Ready", Duration.ofSeconds(60), () -> plane.kubectl("-n", APP_NS, "get",
                "scaledobject", "kafka-scaledobject", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")
                .trim().equals("True"));

        // 0 -> N: records arrive; the first consumer pod runs, the HPA (through the APIService) takes it higher.
        Instant produced = Instant.now();
        for (int p = 0; p < 4; p++) {
            KafkaTestData.produce(kafka.bootstrapServers(), TOPIC, p, 1_500);
        }
        NodeChecks.await(plane, "a consumer pod Running", Duration.ofSeconds(120), () -> runningConsumers(plane) >= 1);
        figures.put("first_record_to_first_consumer_running_ms", Duration.between(produced, Instant.now()).toMillis());
        NodeChecks.await(plane, "the HPA reading the lag through the APIService and scaling past 1", Duration.ofSeconds(120), () -> {
            JsonNode hpa = json(plane, "-n", APP_NS, "get", "hpa", "keda-hpa-kafka-scaledobject");
            return hpa.path("status").path("currentMetrics").path(0).path("external").path("current").has("averageValue")
                    && hpa.path("status").path("desiredReplicas").asInt() > 1;
        });
        NodeChecks.await(plane, "more than one consumer pod Running", Duration.ofSeconds(120), () -> runningConsumers(plane) > 1);
        figures.put("consumer_pods_running_under_lag", runningConsumers(plane));
        figures.put("pod_memory", podMemory(plane));

        // -> 0: the pods drain the topic, the lag stays zero for the cooldown, the operator takes the target to zero.
        NodeChecks.await(plane, "the topic drained by the pods", Duration.ofSeconds(240), () -> KafkaTestData.lag(kafka.bootstrapServers(), GROUP, TOPIC) == 0);
        Instant drained = Instant.now();
        NodeChecks.await(plane, "the consumer Deployment back at zero, no consumer pod left", Duration.ofSeconds(180),
                () -> replicas(plane) == 0 && json(plane, "-n", APP_NS, "get", "pods", "-l", "app=consumer-deployment")
                        .path("items").isEmpty());
        figures.put("drained_to_zero_pods_ms", Duration.between(drained, Instant.now()).toMillis());

        // The leader's pod deleted: the standby takes the Lease and scales from zero on the next records.
        String leader = leaderPod(plane);
        plane.kubectl("-n", NS, "delete", "pod", leader, "--wait=false");
        Instant deleted = Instant.now();
        NodeChecks.await(plane, "another operator pod holding the Lease", Duration.ofSeconds(60), () -> {
            String now = leaderPod(plane);
            return !now.isEmpty() && !now.equals(leader);
        });
        figures.put("leader_pod_deleted_to_new_leader_ms", Duration.between(deleted, Instant.now()).toMillis());
        assertNotEquals(leader, leaderPod(plane));
        Instant again = Instant.now();
        KafkaTestData.produce(kafka.bootstrapServers(), TOPIC, 0, 300);
        NodeChecks.await(plane, "a consumer pod Running under the new leader", Duration.ofSeconds(120),
                () -> runningConsumers(plane) >= 1);
        figures.put("after_handover_record_to_consumer_running_ms", Duration.between(again, Instant.now()).toMillis());
        NodeChecks.await(plane, "drained and back at zero under the new leader", Duration.ofSeconds(180),
                () -> KafkaTestData.lag(kafka.bootstrapServers(), GROUP, TOPIC) == 0 && replicas(plane) == 0);

        // Uninstall, after the ScaledObject (its finalizer is the operator's to remove): nothing of the chart's is left.
        plane.kubectl("-n", APP_NS, "delete", "scaledobject", "kafka-scaledobject", "--timeout=60s");
        release.uninstall();
        String selector = "app.kubernetes.io/instance=lagscaler";
        NodeChecks.await(plane, "no object of the release left", Duration.ofSeconds(120), () -> plane.kubectl("get",
                "pods,statefulsets,deployments,services,secrets,configmaps,serviceaccounts,roles,rolebindings,"
                        + "poddisruptionbudgets,networkpolicies,clusterroles,clusterrolebindings,apiservices,"
                        + "validatingwebhookconfigurations", "-A", "-l", selector, "-o", "name").isBlank());
        String leftInNamespace = plane.kubectl("-n", NS, "get", "leases,pods,secrets", "-o", "name");
        figures.put("left_in_release_namespace_after_uninstall", leftInNamespace.lines().toList());
        assertTrue(leftInNamespace.lines().noneMatch(l -> l.startsWith("lease") || l.startsWith("pod")),
                "the operators' Lease and pods are gone: " + leftInNamespace);
        assertEquals("", plane.kubectl("get", "apiservice", "v1beta1.external.metrics.k8s.io", "--ignore-not-found",
                "-o", "name").trim(), "the APIService is gone");
        figures.put("crds_kept", plane.kubectl("get", "crd", "-o", "name").lines().filter(l -> l.contains("keda.sh")).toList());

        Path results = DevScripts.repoRoot().resolve("bench/results");
        Files.createDirectories(results);
        Files.writeString(results.resolve("node-install.json"),
                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(figures) + "\n");
    }

    /**
     * A TLS client that trusts anything but presents no certificate: the feed must end the connection (TLS 1.3
     * refuses the missing certificate after the client's side of the handshake, at the first read).
     */
    private static boolean feedRefusesClientWithoutCertificate(String host) throws Exception {
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
        context.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
            @Override
            public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {
            }

            @Override
            public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
            }
        }}, null);
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) context.getSocketFactory().createSocket(host, 9090)) {
            socket.setSoTimeout(5_000);
            javax.net.ssl.SSLParameters parameters = socket.getSSLParameters();
            parameters.setProtocols(new String[] {"TLSv1.3"});
            parameters.setApplicationProtocols(new String[] {"h2"});
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            socket.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes());
            socket.getOutputStream().flush();
            return socket.getInputStream().read() < 0;
        } catch (java.io.IOException refused) {
            return true;
        }
    }

    private static JsonNode json(LocalControlPlane plane, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(args));
        command.addAll(List.of("-o", "json"));
        return JSON.readTree(plane.kubectl(command.toArray(String[]::new)));
    }

    private static List<String> names(JsonNode list) {
        List<String> names = new ArrayList<>();
        list.path("items").forEach(i -> names.add(i.path("metadata").path("name").asText()));
        return names;
    }

    private static int runningConsumers(LocalControlPlane plane) throws Exception {
        return plane.node().runningPods(APP_NS, "app=consumer-deployment");
    }

    private static int replicas(LocalControlPlane plane) throws Exception {
        return json(plane, "-n", APP_NS, "get", "deployment", "consumer-deployment").path("spec").path("replicas").asInt();
    }

    /** The pod whose operator holds the Lease: its identity is the pod's host name and a random suffix. */
    private static String leaderPod(LocalControlPlane plane) throws Exception {
        String holder = plane.kubectl("-n", NS, "get", "lease", "lagscaler-operator", "--ignore-not-found",
                "-o", "jsonpath={.spec.holderIdentity}").trim();
        return holder.contains("-") ? holder.substring(0, holder.lastIndexOf('-')) : holder;
    }

    /** Each of the release's pods' memory as the kubelet measures it (working set and RSS, MiB), from /stats/summary. */
    private static Map<String, Object> podMemory(LocalControlPlane plane) throws Exception {
        JsonNode summary = JSON.readTree(plane.kubectl("get", "--raw",
                "/api/v1/nodes/" + LocalNode.NAME + "/proxy/stats/summary"));
        Map<String, Object> memory = new TreeMap<>();
        for (JsonNode pod : summary.path("pods")) {
            String ns = pod.path("podRef").path("namespace").asText();
            if (!ns.equals(NS) && !ns.equals(APP_NS) || !pod.path("memory").has("workingSetBytes")) {
                continue; // another namespace's, or a pod the kubelet has not measured yet
            }
            ObjectNode m = JSON.createObjectNode();
            m.put("working_set_mib", pod.path("memory").path("workingSetBytes").asLong() >> 20);
            m.put("rss_mib", pod.path("memory").path("rssBytes").asLong() >> 20);
            memory.put(ns + "/" + pod.path("podRef").path("name").asText(), m);
        }
        return memory;
    }
}
