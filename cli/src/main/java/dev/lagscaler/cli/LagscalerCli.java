package dev.lagscaler.cli;

import dev.lagscaler.adapter.AdapterCommand;
import dev.lagscaler.controller.OperatorCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code lagscaler} command line: composes the operator and adapter entry points with the tools around them.
 * Exit codes: 0 ok, 1 failure, 2 bad input.
 */
@Command(name = "lagscaler", mixinStandardHelpOptions = true, version = "lagscaler 0.1.0",
        description = {"Kafka consumer-lag autoscaler for Kubernetes, compatible with KEDA's kafka trigger.", "",
                "Example:  lagscaler demo        (the whole story on an embedded broker and control plane)"},
        exitCodeListHeading = "%nExit codes (every command):%n",
        exitCodeList = {"0:ok", "1:a failed check or operation", "2:bad input (flags, arguments, documents)"},
        subcommands = {OperatorCommand.class, AdapterCommand.class, LagCommand.class, EvaluateCommand.class, ExplainCommand.class, DemoCommand.class, DevCommand.class})
public final class LagscalerCli {
    public static final int EXIT_BAD_INPUT = 2;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new LagscalerCli());
        // Auto-flushing writers: a message printed just before System.exit must not be lost.
        cli.setOut(new java.io.PrintWriter(System.out, true));
        cli.setErr(new java.io.PrintWriter(System.err, true));
        // picocli's own usage errors (unknown option, missing value) are bad input too.
        cli.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println(e.getMessage());
            e.getCommandLine().usage(e.getCommandLine().getErr());
            return EXIT_BAD_INPUT;
        });
        return cli;
    }
}
