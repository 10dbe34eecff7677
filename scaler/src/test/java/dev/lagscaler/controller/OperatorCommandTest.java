package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Bad flags end the operator before it connects to anything: exit code 2 and a message naming the flag. */
class OperatorCommandTest {
    private record Run(int exitCode, String err) {
    }

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine command = new CommandLine(new OperatorCommand());
        command.setErr(new PrintWriter(err));
        int code = command.execute(args);
        return new Run(code, err.toString());
    }

    @Test
    void workersOutOfRangeIsRefused() {
        for (String value : new String[] {"0", "-3", "257"}) {
            Run run = run("--workers", value);
            assertEquals(2, run.exitCode(), value);
            assertTrue(run.err().contains("--workers takes 1 to 256, got " + value), run.err());
        }
    }

    @Test
    void workersThatAreNotANumberAreRefused() {
        Run run = run("--workers", "many");
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("--workers"), run.err());
    }
}
