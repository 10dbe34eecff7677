package dev.lagscaler.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real node for a {@link LocalControlPlane}: containerd with runc, a kubelet, kube-proxy (iptables), the
 * kube-scheduler and CoreDNS as a pod, so Pods run, Services route and cluster names resolve. Built and installed by
 * {@code dev/node-binaries.sh} (kubelet, kube-proxy, kube-scheduler from the control plane's Kubernetes version,
 * CoreDNS, Debian's containerd, runc and CNI plugins), its images by {@code dev/images.sh}.
 *
 * <p>Pod traffic stays on this machine: the pods' network is the bridge {@value #BRIDGE} with the node's address
 * {@value #ADDRESS} (where the apiserver and the tests' Kafka listen), the pod network namespaces are made by the
 * CNI bridge plugin, and a FORWARD rule drops anything from the bridge bound for another interface. Needs root;
 * {@link #close()} kills every container, unmounts, removes what kube-proxy and the CNI plugins added.
 */
public final class LocalNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalNode.class);
    /** The node's address: on the pod bridge, reachable from the host and every pod, routed nowhere else. */
    public static final String ADDRESS = "10.244.0.1";
    public static final String POD_SUBNET = "10.244.0.0/24";
    public static final String BRIDGE = "lagscaler0";
    public static final String NAME = "lagscaler-node";
    /** The cluster DNS Service's address, in the control plane's service range. */
    public static final String CLUSTER_DNS = "10.0.0.10";
    public static final String PAUSE_IMAGE = "localhost/lagscaler/pause:1";
    public static final String COREDNS_IMAGE = "localhost/lagscaler/coredns:1";
    private static final String CNI_BIN = "/usr/lib/cni";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LocalControlPlane plane;
    private final Path dir;
    private final Path binaries;
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final Set<String> netnsBefore;
    private Duration startupTime = Duration.ZERO;

    private LocalNode(LocalControlPlane plane, Path dir, Path binaries) throws IOException {
        this.plane = plane;
        this.dir = dir;
        this.binaries = binaries;
        this.netnsBefore = netns();
    }

    /**
     * Builds or finds the node's binaries ({@code dev/node-binaries.sh}, which says why where this machine cannot
     * run a node), makes the bridge; the control plane must bind {@link #ADDRESS}, so it calls this first.
     */
    static Path prepare() throws IOException {
        Path binaries = Path.of(DevScripts.run("node-binaries.sh", Duration.ofMinutes(40)));
        sh("ip link show " + BRIDGE + " >/dev/null 2>&1 || ip link add " + BRIDGE + " type bridge");
        sh("ip -4 addr show dev " + BRIDGE + " | grep -q 'inet " + ADDRESS + "/' || ip addr add " + ADDRESS + "/24 dev " + BRIDGE);
        sh("ip link set " + BRIDGE + " up");
        sh("sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1");
        // Pods talk to the node and to each other (through Services too), never past this machine.
        sh("iptables -C FORWARD -i " + BRIDGE + " ! -o " + BRIDGE + " -j DROP 2>/dev/null"
                + " || iptables -I FORWARD -i " + BRIDGE + " ! -o " + BRIDGE + " -j DROP");
        return binaries;
    }

    /** Starts the node's processes against {@code plane}, loads {@code images} (docker-archive tarballs), waits Ready. */
    static LocalNode start(LocalControlPlane plane, Path binaries, List<Path> images) throws IOException {
        LocalNode node = new LocalNode(plane, Files.createDirectories(plane.directory().resolve("node")), binaries);
        try {
            node.startAll(images);
            return node;
        } catch (IOException | RuntimeException e) {
            node.close();
            throw e;
        }
    }

    private void startAll(List<Path> images) throws IOException {
        Instant begin = Instant.now();
        Path containerd = Files.createDirectories(dir.resolve("containerd"));
        Path socket = containerd.resolve("containerd.sock");
        Path cni = Files.createDirectories(dir.resolve("cni"));
        Files.writeString(containerd.resolve("config.toml"), """
                version = 2
                root = "%s"
                state = "%s"
                [grpc]
                  address = "%s"
                [plugins."io.containerd.grpc.v1.cri"]
                  sandbox_image = "%s"
                  # Not below containerd's own: this machine refuses a negative oom_score_adj (the kubelet asks -998
                  # for a pod's sandbox), and runc would fail every pod.
                  restrict_oom_score_adj = true
                  [plugins."io.containerd.grpc.v1.cri".containerd]
                    snapshotter = "overlayfs"
                    default_runtime_name = "runc"
                    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
                      runtime_type = "io.containerd.runc.v2"
                  [plugins."io.containerd.grpc.v1.cri".cni]
                    bin_dir = "%s"
                    conf_dir = "%s"
                """.formatted(containerd.resolve("root"), containerd.resolve("state"), socket, PAUSE_IMAGE, CNI_BIN, cni));
        Files.writeString(cni.resolve("10-lagscaler.conflist"), """
                {"cniVersion": "1.0.0", "name": "lagscaler", "plugins": [
                  {"type": "bridge", "bridge": "%s", "isGateway": true, "ipMasq": false, "hairpinMode": true,
                   "ipam": {"type": "host-local", "dataDir": "%s",
                            "ranges": [[{"subnet": "%s", "gateway": "%s"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
                  {"type": "portmap", "capabilities": {"portMappings": true}}]}
                """.formatted(BRIDGE, dir.resolve("ipam"), POD_SUBNET, ADDRESS));
        launch("containerd", List.of("containerd", "--config", containerd.resolve("config.toml").toString()));
        ChildProcess.await("containerd's socket", Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
            failIfExited("containerd");
            return Files.exists(socket);
        });
        importImages(images);

        Path kubelet = Files.createDirectories(dir.resolve("kubelet"));
        Path pki = plane.directory().resolve("pki");
        int kubeletPort = ChildProcess.freePort();
        Files.writeString(kubelet.resolve("config.yaml"), """
                apiVersion: kubelet.config.k8s.io/v1beta1
                kind: KubeletConfiguration
                failCgroupV1: false
                cgroupDriver: cgroupfs
                containerRuntimeEndpoint: unix://%s
                address: %s
                port: %d
                readOnlyPort: 0
                healthzPort: 0
                authentication:
                  anonymous: {enabled: false}
                  webhook: {enabled: false}
                  x509: {clientCAFile: %s}
                authorization: {mode: AlwaysAllow}
                clusterDomain: cluster.local
                clusterDNS: [%s]
                resolvConf: ""
                failSwapOn: false
                podLogsDir: %s
                serializeImagePulls: false
                imageGCHighThresholdPercent: 100
                evictionHard: {memory.available: 100Mi, nodefs.available: 1%%, imagefs.available: 1%%}
                """.formatted(socket, ADDRESS, kubeletPort, pki.resolve("ca.crt"), CLUSTER_DNS,
                Files.createDirectories(dir.resolve("pod-logs"))));
        launch("kubelet", List.of(binaries.resolve("kubelet").toString(),
                "--config=" + kubelet.resolve("config.yaml"),
                "--kubeconfig=" + plane.kubeconfig(),
                "--root-dir=" + kubelet.resolve("root"),
                "--cert-dir=" + kubelet.resolve("pki"),
                "--hostname-override=" + NAME, "--node-ip=" + ADDRESS, "--v=1"));

        Path proxy = Files.createDirectories(dir.resolve("kube-proxy"));
        Files.writeString(proxy.resolve("config.yaml"), """
                apiVersion: kubeproxy.config.k8s.io/v1alpha1
                kind: KubeProxyConfiguration
                clientConnection: {kubeconfig: %s}
                hostnameOverride: %s
                clusterCIDR: %s
                mode: iptables
                conntrack: {maxPerCore: 0}
                healthzBindAddress: 127.0.0.1:%d
                metricsBindAddress: 127.0.0.1:%d
                """.formatted(plane.kubeconfig(), NAME, POD_SUBNET, ChildProcess.freePort(), ChildProcess.freePort()));
        launch("kube-proxy", List.of(binaries.resolve("kube-proxy").toString(),
                "--config=" + proxy.resolve("config.yaml"), "--v=1"));
        launch("kube-scheduler", List.of(binaries.resolve("kube-scheduler").toString(),
                "--kubeconfig=" + plane.kubeconfig(), "--authentication-kubeconfig=" + plane.kubeconfig(),
                "--authorization-kubeconfig=" + plane.kubeconfig(), "--leader-elect=false",
                "--bind-address=127.0.0.1", "--secure-port=" + ChildProcess.freePort(), "--v=1"));

        ChildProcess.await("node " + NAME + " Ready", Duration.ofSeconds(90), Duration.ofMillis(500), () -> {
            processes.keySet().forEach(this::failIfExited);
            try {
                return plane.kubectl("get", "node", NAME,
                        "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}").trim().equals("True");
            } catch (IOException notRegisteredYet) {
                return false;
            }
        });
        Path dns = Files.createTempFile(dir, "coredns-", ".yaml");
        Files.writeString(dns, coreDnsManifest());
        plane.kubectl("apply", "-f", dns.toString());
        try {
            plane.kubectl("-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=120s");
        } catch (IOException e) {
            throw new IOException(e.getMessage() + "\n" + plane.kubectl("-n", "kube-system", "describe", "pods")
                    + "\nkubelet:\n" + ChildProcess.tail(log("kubelet"), 30), e);
        }
        startupTime = Duration.between(begin, Instant.now());
        LOG.atInfo().addKeyValue("node", NAME).addKeyValue("address", ADDRESS)
                .addKeyValue("startup_ms", startupTime.toMillis()).log("node ready");
    }

    private static String coreDnsManifest() {
        return """
                apiVersion: v1
                kind: ServiceAccount
                metadata: {name: coredns, namespace: kube-system}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata: {name: "system:coredns"}
                rules:
                - {apiGroups: [""], resources: [endpoints, services, pods, namespaces], verbs: [list, watch]}
                - {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch]}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRoleBinding
                metadata: {name: "system:coredns"}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
                subjects: [{kind: ServiceAccount, name: coredns, namespace: kube-system}]
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: coredns, namespace: kube-system}
                data:
                  Corefile: |
                    .:53 {
                        errors
                        health :8080
                        ready :8181
                        kubernetes cluster.local in-addr.arpa ip6.arpa {
                            pods insecure
                            fallthrough in-addr.arpa ip6.arpa
                        }
                        cache 30
                        loop
                    }
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
                spec:
                  replicas: 1
                  selector: {matchLabels: {k8s-app: kube-dns}}
                  template:
                    metadata: {labels: {k8s-app: kube-dns}}
                    spec:
                      serviceAccountName: coredns
                      dnsPolicy: Default
                      containers:
                      - name: coredns
                        image: %s
                        imagePullPolicy: Never
                        args: [-conf, /etc/coredns/Corefile]
                        ports:
                        - {name: dns, containerPort: 53, protocol: UDP}
                        - {name: dns-tcp, containerPort: 53, protocol: TCP}
                        readinessProbe: {httpGet: {path: /ready, port: 8181}, periodSeconds: 2}
                        livenessProbe: {httpGet: {path: /health, port: 8080}, periodSeconds: 10}
                        resources: {requests: {cpu: 50m, memory: 32Mi}, limits: {memory: 128Mi}}
                        volumeMounts: [{name: config, mountPath: /etc/coredns, readOnly: true}]
                      volumes: [{name: config, configMap: {name: coredns}}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
                spec:
                  clusterIP: %s
                  selector: {k8s-app: kube-dns}
                  ports:
                  - {name: dns, port: 53, protocol: UDP}
                  - {name: dns-tcp, port: 53, protocol: TCP}
                """.formatted(COREDNS_IMAGE, CLUSTER_DNS);
    }

    /** Loads docker-archive tarballs into the node's containerd, where the kubelet finds them (pullPolicy IfNotPresent). */
    public void importImages(List<Path> images) throws IOException {
        Path socket = dir.resolve("containerd/containerd.sock");
        for (Path image : images) {
            ChildProcess.run(List.of("ctr", "--address", socket.toString(), "-n", "k8s.io", "images", "import",
                    image.toString()), dir, log("ctr-import"), Duration.ofMinutes(5));
        }
    }

    /**
     * Pods in {@code namespace} matching {@code labelSelector} that are Running and not being deleted. Read through
     * kubectl: client-java 25's typed Pod refuses fields a 1.36 kubelet writes.
     */
    public int runningPods(String namespace, String labelSelector) throws IOException {
        int running = 0;
        for (JsonNode pod : JSON.readTree(plane.kubectl("-n", namespace, "get", "pods", "-l", labelSelector, "-o", "json"))
                .path("items")) {
            if (pod.path("status").path("phase").asText().equals("Running")
                    && pod.path("metadata").path("deletionTimestamp").isMissingNode()) {
                running++;
            }
        }
        return running;
    }

    public Duration startupTime() {
        return startupTime;
    }

    public Path log(String component) {
        return dir.resolve(component + ".log");
    }

    private void launch(String name, List<String> command) throws IOException {
        processes.put(name, ChildProcess.start(command, dir, log(name)));
    }

    private void failIfExited(String name) {
        Process p = processes.get(name);
        if (p != null && !p.isAlive()) {
            throw new IllegalStateException(name + " exited with " + p.exitValue() + ":\n" + ChildProcess.tail(log(name), 30));
        }
    }

    /**
     * Stops the node and takes away what it made: every container (killed through containerd), the kubelet's and
     * containerd's mounts, the pod network namespaces, kube-proxy's iptables rules and the pods' cgroups.
     */
    @Override
    public void close() {
        for (String name : List.of("kube-scheduler", "kube-proxy", "kubelet")) {
            Process p = processes.remove(name);
            if (p != null) {
                ChildProcess.stop(p, Duration.ofSeconds(10));
            }
        }
        Path socket = dir.resolve("containerd/containerd.sock");
        if (Files.exists(socket)) {
            quietly("for t in $(ctr --address " + socket + " -n k8s.io tasks ls -q); do"
                    + " ctr --address " + socket + " -n k8s.io tasks kill -a -s SIGKILL $t; done; sleep 1");
        }
        Process containerd = processes.remove("containerd");
        if (containerd != null) {
            ChildProcess.stop(containerd, Duration.ofSeconds(10));
        }
        // Shims outlive containerd: the ones serving this node's containers go too.
        quietly("pkill -9 -f 'containerd-shim-runc-v2 .*-address " + socket + "'");
        quietly("kube=" + binaries.resolve("kube-proxy") + "; [ -x $kube ] && $kube --cleanup >/dev/null 2>&1");
        try {
            Set<String> created = new HashSet<>(netns());
            created.removeAll(netnsBefore);
            for (String ns : created) {
                quietly("ip netns delete " + ns);
            }
        } catch (IOException e) {
            LOG.atWarn().addKeyValue("error", e.toString()).log("could not list network namespaces");
        }
        quietly("awk '{print $2}' /proc/mounts | grep '^" + dir + "' | sort -r | xargs -r -n1 umount -l");
        quietly("find /sys/fs/cgroup/*/kubepods* -depth -type d -exec rmdir {} + 2>/dev/null; true");
    }

    private static Set<String> netns() throws IOException {
        Path run = Path.of("/run/netns");
        if (!Files.isDirectory(run)) {
            return Set.of();
        }
        try (Stream<Path> list = Files.list(run)) {
            return new HashSet<>(list.map(p -> p.getFileName().toString()).toList());
        }
    }

    private static void sh(String script) throws IOException {
        Process p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        try {
            if (p.waitFor() != 0) {
                throw new IOException("node setup failed: " + script + "\n" + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static void quietly(String script) {
        try {
            sh(script);
        } catch (IOException e) {
            LOG.atDebug().addKeyValue("error", e.getMessage()).log("node cleanup step failed");
        }
    }
}
