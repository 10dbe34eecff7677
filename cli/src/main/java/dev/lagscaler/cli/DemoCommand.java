package dev.lagscaler.cli;

import dev.lagscaler.cli.demo.DemoReport;
import dev.lagscaler.cli.demo.DemoRun;
import dev.lagscaler.cli.demo.DemoSample;
import dev.lagscaler.cli.demo.LiveView;
import dev.lagscaler.testing.DevScripts;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lagscaler demo}: the whole story on real parts with no cluster needed: 0 → N → 0 with real consumers that
 * follow the Deployment, a live view, and a plot of lag and replicas at the end.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs lagscaler's main job on an embedded Kafka broker and a local control plane: a producer plays",
                "idle -> burst -> steady -> idle on a 12-partition topic, consumers follow the Deployment's replicas,",
                "and the operator and the HPA take it 0 -> N -> 0. Ends with demo-report.png and demo-report.json.",
                "",
                "Example:  ./lagscaler demo --burst-rate 3000 --steady-seconds 40 --output-dir /tmp/demo"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the story completed (back at zero)", "1:it did not (see the log file)", "2:bad flags"})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--quick", description = "A short profile (about a minute of traffic and draining).")
    boolean quick;

    @Option(names = "--idle-seconds", description = "Idle time before the burst.")
    Integer idleSeconds;

    @Option(names = "--burst-rate", description = "Records per second during the burst.")
    Integer burstRate;

    @Option(names = "--burst-seconds", description = "Length of the burst.")
    Integer burstSeconds;

    @Option(names = "--steady-rate", description = "Records per second after the burst.")
    Integer steadyRate;

    @Option(names = "--steady-seconds", description = "Length of the steady phase.")
    Integer steadySeconds;

    @Option(names = "--consumer-rate", description = "Records per second one replica (consumer) processes.")
    Integer consumerRate;

    @Option(names = "--cooldown", description = "The ScaledObject's cooldownPeriod, seconds.")
    Integer cooldown;

    @Option(names = "--drain-within", paramLabel = "SECONDS",
            description = "Put lagscaler's drain-time sizing on the trigger (drainWithinSeconds): replicas sized to clear"
                    + " the backlog within SECONDS from the measured rates, instead of by lagThreshold alone.")
    Integer drainWithin;

    @Option(names = "--output-dir", defaultValue = ".", description = "Where the report goes (default: the current folder).")
    Path outputDir;

    @Option(names = "--keep", description = "Leave the cluster up at the end (Ctrl-C stops it) and print how to explore it.")
    boolean keep;

    @Option(names = "--node", description = {"Run it as a cluster runs it: a real node (containerd, kubelet; needs root),",
            "the operator and adapter installed as pods by the Helm chart, consumer pods. The first run builds",
            "the node and the images (about 15 minutes)."})
    boolean node;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path log = Path.of(System.getProperty("java.io.tmpdir"), "lagscaler-demo-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".log");
        // Before the first logger exists: every log line goes to the file, the terminal shows the story.
        System.setProperty("lagscaler.demo.log", log.toString());
        System.setProperty("log4j2.configurationFile", "lagscaler-demo-log4j2.xml");
        // Log4j's own status lines (one appears when Ctrl-C stops the JVM mid-start of a logger) stay off the story.
        System.setProperty("log4j2.StatusLogger.level", "OFF");
        System.setProperty("log4j2.statusLoggerLevel", "OFF");
        DemoRun.Profile base = quick ? DemoRun.Profile.quick() : DemoRun.Profile.standard();
        DemoRun.Profile profile = new DemoRun.Profile(or(idleSeconds, base.idleSeconds()), or(burstRate, base.burstRate()),
                or(burstSeconds, base.burstSeconds()), or(steadyRate, base.steadyRate()),
                or(steadySeconds, base.steadySeconds()), or(consumerRate, base.consumerRate()), base.lagThreshold(),
                or(cooldown, base.cooldownSeconds()), base.maxSeconds() + or(steadySeconds, 0) + or(burstSeconds, 0),
                drainWithin);
        if (drainWithin != null && drainWithin <= 0) {
            spec.commandLine().getErr().println("lagscaler demo: --drain-within takes a number of seconds above zero");
            return LagscalerCli.EXIT_BAD_INPUT;
        }
        if (profile.consumerRate() <= 0 || profile.burstRate() < 0 || profile.steadyRate() < 0 || profile.cooldownSeconds() < 0) {
            spec.commandLine().getErr().println("lagscaler demo: rates and durations are zero or more, --consumer-rate above zero");
            return LagscalerCli.EXIT_BAD_INPUT;
        }
        out.println("lagscaler demo: logs go to " + log);
        long begin = System.nanoTime();
        DevScripts.onProgress(line -> out.printf("  [%3ds] %s%n", (System.nanoTime() - begin) / 1_000_000_000, line));
        DemoRun run = new DemoRun(node);
        Thread hook = new Thread(run::close, "demo-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            LiveView view = new LiveView(out, System.console() != null);
            DemoRun.Result result = run.run(profile, outputDir.toAbsolutePath(), view, out::println);
            summarize(out, result);
            if (keep) {
                out.println("\nthe cluster stays up until Ctrl-C; explore it with:");
                out.println("  kubectl --kubeconfig " + run.plane().kubeconfig() + " get so,hpa,deploy");
                out.println("  ./lagscaler explain default/kafka-scaledobject --kubeconfig " + run.plane().kubeconfig());
                out.flush();
                new CountDownLatch(1).await();
            }
            return result.completed() ? 0 : 1;
        } finally {
            run.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // Already shutting down (Ctrl-C): the hook is stopping everything.
            }
        }
    }

    private static void summarize(PrintWriter out, DemoRun.Result result) {
        int maxReplicas = result.samples().stream().mapToInt(DemoSample::replicas).max().orElse(0);
        long maxLag = result.samples().stream().mapToLong(DemoSample::lag).max().orElse(0);
        out.println();
        out.printf("%s: %d records produced, %d consumed by the demo's consumers; lag peaked at %d, replicas at %d%n",
                result.completed() ? "done, back at zero" : "stopped", result.produced(), result.consumed(), maxLag, maxReplicas);
        DemoReport.marks(result.samples()).forEach(m -> out.printf("  %6.0fs  %s%n", m.seconds(), m.kind()));
        out.println("report: " + result.png() + "\n        " + result.json());
        out.flush();
    }

    private static int or(Integer value, int fallback) {
        return value == null ? fallback : value;
    }
}
