package dev.lagscaler.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Small, shared helpers for the real-part fixtures: child processes, free ports, waiting, temp dirs. */
public final class ChildProcess {
    private ChildProcess() {
    }

    /** Starts a command with its output appended to {@code log}. */
    public static Process start(List<String> command, Path workDir, Path log) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return builder.start();
    }

    /** Runs a command to completion; fails with the tail of its output when it exits non-zero. */
    public static void run(List<String> command, Path workDir, Path log, Duration timeout) throws IOException {
        Process process = start(command, workDir, log);
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IOException("timed out after " + timeout + ": " + describe(command));
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (process.exitValue() != 0) {
            throw new IOException("exit code " + process.exitValue() + " from " + describe(command)
                    + "; output:\n" + tail(log, 30));
        }
    }

    /** The program and its first arguments, without the long class path. */
    private static String describe(List<String> command) {
        List<String> shown = new java.util.ArrayList<>();
        for (int i = 0; i < command.size() && shown.size() < 6; i++) {
            if (command.get(i).equals("-cp") || command.get(i).equals("-classpath")) {
                i++;
                continue;
            }
            shown.add(command.get(i));
        }
        return String.join(" ", shown);
    }

    /** Stops a process: a polite signal first, then a forced kill after {@code grace}. */
    public static void stop(Process process, Duration grace) {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    /**
     * A port free now for a server started later (a child process, or a server that takes its port as a flag). It
     * is drawn below the kernel's ephemeral range: a port from that range (what binding port 0 gives) can be taken
     * as the local port of any outgoing connection before the server binds it, which made a test fail with "Address
     * already in use" on a busy run. Each port is handed out at most once per JVM.
     */
    public static synchronized int freePort() throws IOException {
        int below = ephemeralRangeStart();
        int from = Math.min(20000, below / 2);
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = from + ThreadLocalRandom.current().nextInt(below - from);
            if (HANDED_OUT.contains(port)) {
                continue;
            }
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress(port));
            } catch (IOException inUse) {
                continue;
            }
            HANDED_OUT.add(port);
            return port;
        }
        throw new IOException("no free port between " + from + " and " + below + " after 200 tries");
    }

    private static int ephemeralRangeStart() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            int start = Integer.parseInt(range.split("\\s+")[0]);
            return start > 2048 ? start : 32768;
        } catch (IOException | RuntimeException notLinux) {
            return 32768;
        }
    }

    public static boolean portOpen(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A condition checked until it holds or the deadline passes. */
    @FunctionalInterface
    public interface Check {
        boolean holds() throws Exception;
    }

    /** Polls {@code check} every {@code every} until it holds; throws with {@code what} when {@code timeout} passes. */
    public static void await(String what, Duration timeout, Duration every, Check check) throws IOException {
        Instant deadline = Instant.now().plus(timeout);
        Exception last = null;
        while (Instant.now().isBefore(deadline)) {
            try {
                if (check.holds()) {
                    return;
                }
            } catch (Exception e) {
                last = e;
            }
            try {
                Thread.sleep(every.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + what, e);
            }
        }
        throw new IOException("timed out after " + timeout + " waiting for " + what
                + (last == null ? "" : "; last error: " + last), last);
    }

    public static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    public static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // Best effort: a temp dir left behind is reported by the caller's next run, not fatal here.
        }
    }

    /** This JVM's class path with every entry absolute, so a child started in another directory finds it. */
    public static String absoluteClassPath() {
        StringBuilder cp = new StringBuilder();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            if (cp.length() > 0) {
                cp.append(java.io.File.pathSeparatorChar);
            }
            cp.append(Path.of(entry).toAbsolutePath());
        }
        return cp.toString();
    }

    public static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
