package dev.lagscaler.testing;

import dev.lagscaler.tls.Pki;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.ApiregistrationV1Api;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.AutoscalingV2Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1APIService;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1ReplicaSet;
import io.kubernetes.client.openapi.models.V1Scale;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import io.kubernetes.client.util.Yaml;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Proves the control plane is the real thing: real validation, real controllers, a real aggregator. */
@WithControlPlane
class LocalControlPlaneTest {
    private static final String SEED_DEPLOYMENT = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: consumer-deployment
            spec:
              replicas: 1
              template:
                spec:
                  containers:
                  - name: consumer
                    image: consumer:1.0
            """;

    private final LocalControlPlane plane;
    private final ApiClient client;

    LocalControlPlaneTest(LocalControlPlane plane) throws Exception {
        this.plane = plane;
        this.client = plane.apiClient();
    }

    static V1Deployment deployment(String name, int replicas) {
        return Yaml.loadAs("""
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: %1$s
                spec:
                  replicas: %2$d
                  selector:
                    matchLabels: {app: %1$s}
                  template:
                    metadata:
                      labels: {app: %1$s}
                    spec:
                      containers:
                      - name: consumer
                        image: consumer:1.0
                        resources:
                          requests: {cpu: 100m}
                """.formatted(name, replicas), V1Deployment.class);
    }

    @Test
    void apiserverRejectsADeploymentWithoutSelector() {
        V1Deployment seed = Yaml.loadAs(SEED_DEPLOYMENT, V1Deployment.class);
        ApiException e = assertThrows(ApiException.class,
                () -> new AppsV1Api(client).createNamespacedDeployment("default", seed).execute());
        assertEquals(422, e.getCode());
        assertTrue(e.getResponseBody().contains("spec.selector: Required value"), e.getResponseBody());
    }

    @Test
    void scalingThroughTheScaleSubresourceReachesTheReplicaSet() throws Exception {
        AppsV1Api apps = new AppsV1Api(client);
        apps.createNamespacedDeployment("default", deployment("scaled", 1)).execute();
        ChildProcess.await("a ReplicaSet with 1 replica", Duration.ofSeconds(60), Duration.ofMillis(200),
                () -> replicaSetReplicas(apps, "scaled") == 1);
        // Read-modify-write with the read's resourceVersion; the deployment controller may write in between (409).
        ChildProcess.await("the /scale write accepted", Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
            V1Scale scale = apps.readNamespacedDeploymentScale("scaled", "default").execute();
            scale.getSpec().setReplicas(3);
            try {
                apps.replaceNamespacedDeploymentScale("scaled", "default", scale).execute();
                return true;
            } catch (ApiException e) {
                if (e.getCode() == 409) {
                    return false;
                }
                throw e;
            }
        });
        ChildProcess.await("the ReplicaSet scaled to 3", Duration.ofSeconds(60), Duration.ofMillis(200),
                () -> replicaSetReplicas(apps, "scaled") == 3);
    }

    private static int replicaSetReplicas(AppsV1Api apps, String app) throws ApiException {
        List<V1ReplicaSet> sets = apps.listNamespacedReplicaSet("default").labelSelector("app=" + app).execute().getItems();
        return sets.size() == 1 ? sets.get(0).getSpec().getReplicas() : -1;
    }

    @Test
    void hpaControllerWritesStatusConditions() throws Exception {
        new AppsV1Api(client).createNamespacedDeployment("default", deployment("cpu-bound", 1)).execute();
        V2HorizontalPodAutoscaler hpa = Yaml.loadAs("""
                apiVersion: autoscaling/v2
                kind: HorizontalPodAutoscaler
                metadata:
                  name: cpu-bound
                spec:
                  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: cpu-bound}
                  minReplicas: 1
                  maxReplicas: 5
                  metrics:
                  - type: Resource
                    resource:
                      name: cpu
                      target: {type: Utilization, averageUtilization: 50}
                """, V2HorizontalPodAutoscaler.class);
        AutoscalingV2Api autoscaling = new AutoscalingV2Api(client);
        autoscaling.createNamespacedHorizontalPodAutoscaler("default", hpa).execute();
        ChildProcess.await("the HPA controller to set ScalingActive", Duration.ofSeconds(60), Duration.ofMillis(500), () -> {
            var status = autoscaling.readNamespacedHorizontalPodAutoscalerStatus("cpu-bound", "default").execute().getStatus();
            return status != null && status.getConditions() != null && status.getConditions().stream()
                    .anyMatch(c -> c.getType().equals("ScalingActive") && c.getStatus().equals("False"));
        });
    }

    @Test
    void aggregatorReportsALoopbackApiServiceAvailable() throws Exception {
        Pki.Issued serving = Pki.server(plane.ca(), "probe-api", List.of("probe-api.default.svc", "localhost"),
                List.of("127.0.0.1"));
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(Pki.sslContext(serving, null)));
        byte[] discovery = """
                {"kind":"APIResourceList","apiVersion":"v1","groupVersion":"probe.lagscaler.dev/v1","resources":[]}
                """.getBytes(StandardCharsets.UTF_8);
        server.createContext("/", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, discovery.length);
            exchange.getResponseBody().write(discovery);
            exchange.close();
        });
        server.start();
        try {
            int port = server.getAddress().getPort();
            V1Service service = Yaml.loadAs("""
                    apiVersion: v1
                    kind: Service
                    metadata: {name: probe-api, namespace: default}
                    spec: {type: ExternalName, externalName: localhost, ports: [{port: %d}]}
                    """.formatted(port), V1Service.class);
            new CoreV1Api(client).createNamespacedService("default", service).execute();
            V1APIService apiService = Yaml.loadAs("""
                    apiVersion: apiregistration.k8s.io/v1
                    kind: APIService
                    metadata: {name: v1.probe.lagscaler.dev}
                    spec:
                      group: probe.lagscaler.dev
                      version: v1
                      groupPriorityMinimum: 1000
                      versionPriority: 15
                      service: {namespace: default, name: probe-api, port: %d}
                      caBundle: %s
                    """.formatted(port, Base64.getEncoder().encodeToString(plane.ca().certificatePem().getBytes())),
                    V1APIService.class);
            ApiregistrationV1Api registration = new ApiregistrationV1Api(client);
            registration.createAPIService(apiService).execute();
            ChildProcess.await("APIService Available", Duration.ofSeconds(60), Duration.ofMillis(500), () -> {
                var status = registration.readAPIServiceStatus("v1.probe.lagscaler.dev").execute().getStatus();
                return status != null && status.getConditions() != null && status.getConditions().stream()
                        .anyMatch(c -> c.getType().equals("Available") && c.getStatus().equals("True"));
            });
            assertTrue(plane.kubectl("get", "--raw", "/apis/probe.lagscaler.dev/v1").contains("probe.lagscaler.dev/v1"));
        } finally {
            server.stop(0);
        }
    }
}
