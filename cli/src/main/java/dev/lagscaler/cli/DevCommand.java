package dev.lagscaler.cli;

import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.LocalControlPlane;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lagscaler dev}: local development helpers. */
@Command(name = "dev", mixinStandardHelpOptions = true,
        description = {"Local development helpers.", "", "Example:  lagscaler dev cluster up"},
        subcommands = {DevCommand.Cluster.class})
final class DevCommand {

    /** {@code lagscaler dev cluster up|down|status}: the local control plane as a background process. */
    @Command(name = "cluster", mixinStandardHelpOptions = true,
            description = {"Runs the local control plane (etcd, kube-apiserver, kube-controller-manager) in the background.",
                    "  up      start it and print its kubeconfig path",
                    "  down    stop it and delete its state",
                    "  status  say whether it runs, and where", "",
                    "With --node a real node joins it (containerd, kubelet, kube-proxy, CoreDNS; needs root):",
                    "Pods run, and the chart installs as on any cluster.", "",
                    "Example:  lagscaler dev cluster up && kubectl --kubeconfig <printed path> get ns"})
    static final class Cluster implements Callable<Integer> {
        @Parameters(index = "0", description = "up, down or status")
        String action;

        @Option(names = "--state-dir", description = "Where the cluster keeps its state (default ~/.cache/lagscaler/dev-cluster).")
        Path stateDir = Path.of(System.getProperty("user.home"), ".cache", "lagscaler", "dev-cluster");

        @Option(names = "--node", description = "Start a real node too: Pods run (root; the first start builds the kubelet and installs containerd).")
        boolean node;

        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            switch (action) {
                case "up":
                    return up(out, err);
                case "down":
                    return down(out);
                case "status":
                    return status(out);
                case "run":
                    return run();
                default:
                    err.println("lagscaler dev cluster: unknown action \"" + action + "\"; use up, down or status");
                    return LagscalerCli.EXIT_BAD_INPUT;
            }
        }

        private Path pidFile() {
            return stateDir.resolve("cluster.pid");
        }

        private Path readyFile() {
            return stateDir.resolve("ready");
        }

        private Optional<ProcessHandle> running() throws IOException {
            if (!Files.exists(pidFile())) {
                return Optional.empty();
            }
            long pid = Long.parseLong(Files.readString(pidFile()).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        }

        private int up(PrintWriter out, PrintWriter err) throws Exception {
            if (running().isPresent() && Files.exists(readyFile())) {
                return status(out);
            }
            Files.createDirectories(stateDir);
            Files.deleteIfExists(readyFile());
            Path log = stateDir.resolve("cluster.log");
            Files.deleteIfExists(log);
            List<String> command = new java.util.ArrayList<>(List.of(ChildProcess.javaExecutable(), "-cp",
                    ChildProcess.absoluteClassPath(), LagscalerCli.class.getName(), "dev", "cluster", "run",
                    "--state-dir", stateDir.toString()));
            if (node) {
                command.add("--node");
            }
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            Files.writeString(pidFile(), String.valueOf(process.pid()));
            out.println("starting the local control plane (the first start builds the Kubernetes binaries: minutes)...");
            out.flush();
            try {
                ChildProcess.await("the local control plane", Duration.ofMinutes(45), Duration.ofMillis(500), () -> {
                    if (!process.isAlive()) {
                        throw new IOException("it exited with " + process.exitValue() + ":\n" + ChildProcess.tail(log, 30));
                    }
                    return Files.exists(readyFile());
                });
            } catch (IOException e) {
                err.println("lagscaler dev cluster up: " + e.getMessage());
                ChildProcess.stop(process, Duration.ofSeconds(10));
                return 1;
            }
            return status(out);
        }

        private int down(PrintWriter out) throws IOException {
            Optional<ProcessHandle> process = running();
            if (process.isPresent()) {
                process.get().destroy();
                try {
                    process.get().onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    process.get().destroyForcibly();
                }
            }
            ChildProcess.deleteRecursively(stateDir);
            out.println(process.isPresent() ? "local control plane stopped" : "local control plane was not running");
            return 0;
        }

        private int status(PrintWriter out) throws IOException {
            if (running().isEmpty() || !Files.exists(readyFile())) {
                out.println("local control plane: not running");
                return 1;
            }
            List<String> ready = Files.readAllLines(readyFile());
            out.println("local control plane: running (pid " + Files.readString(pidFile()).trim() + ")");
            out.println("  server:     " + ready.get(0));
            out.println("  kubeconfig: " + ready.get(1));
            out.println("  kubectl:    " + ready.get(2) + " --kubeconfig " + ready.get(1) + " get deploy");
            return 0;
        }

        /** The background process itself: starts the control plane and holds it until terminated. */
        private int run() throws Exception {
            ChildProcess.deleteRecursively(stateDir.resolve("plane"));
            LocalControlPlane plane = LocalControlPlane.start(new LocalControlPlane.Options(stateDir.resolve("plane"),
                    true, LocalControlPlane.Options.temporary().crdDir(), node));
            Files.write(readyFile(), List.of(plane.url(), plane.kubeconfig().toString(),
                    plane.binaries().resolve("kubectl").toString()));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                plane.close();
                try {
                    Files.deleteIfExists(readyFile());
                } catch (IOException e) {
                    // the state dir is going away with `down` anyway
                }
            }));
            new CountDownLatch(1).await();
            return 0;
        }
    }
}
