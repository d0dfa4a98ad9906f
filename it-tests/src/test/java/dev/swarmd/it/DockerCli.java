package dev.swarmd.it;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs the stock docker CLI ({@code /usr/local/bin/docker}, 28.x; or {@code /usr/bin/docker}) against one daemon:
 * DOCKER_HOST set, an empty private DOCKER_CONFIG (so no user config changes formats), stdin from /dev/null (no TTY),
 * a bounded run time. Every command and its output is appended to a transcript under target/it-logs.
 */
public final class DockerCli {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(90);
    private static final AtomicInteger SEQ = new AtomicInteger();

    private final Path binary;
    private final String dockerHost;
    private final Path configDir;
    private final Path transcript;

    public DockerCli(String dockerHost, String name) {
        this.binary = ItConfig.dockerCliBinary();
        this.dockerHost = dockerHost;
        try {
            this.configDir = Files.createDirectories(ItConfig.workDir().resolve("docker-config-" + name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.transcript = ItConfig.logDir().resolve(name + "-cli.log");
    }

    public String dockerHost() {
        return dockerHost;
    }

    public Path binary() {
        return binary;
    }

    /** Runs {@code docker args...} with the default bound; the caller checks the exit code. */
    public CliResult run(String... args) {
        return run(DEFAULT_TIMEOUT, args);
    }

    /**
     * Runs {@code docker args...}; if it is still running after {@code timeout} it is killed and the result says
     * {@code timedOut}. Output is kept in files (no pipe can fill up).
     */
    public CliResult run(Duration timeout, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        cmd.addAll(List.of(args));
        int n = SEQ.incrementAndGet();
        Path out;
        Path err;
        try {
            out = Files.createTempFile(configDir, "out-" + n + "-", ".txt");
            err = Files.createTempFile(configDir, "err-" + n + "-", ".txt");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("DOCKER_"));
        env.put("DOCKER_HOST", dockerHost);
        env.put("DOCKER_CONFIG", configDir.toString());
        env.put("DOCKER_CLI_HINTS", "false");
        env.put("NO_COLOR", "1");
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectOutput(out.toFile());
        pb.redirectError(err.toFile());
        Instant started = Instant.now();
        boolean timedOut = false;
        int code;
        try {
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                timedOut = true;
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            code = p.isAlive() ? -1 : p.exitValue();
            String stdout = Files.readString(out, StandardCharsets.UTF_8);
            String stderr = Files.readString(err, StandardCharsets.UTF_8);
            CliResult r = new CliResult(List.copyOf(cmd.subList(1, cmd.size())), code, stdout, stderr, timedOut);
            record(started, r);
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + cmd, e);
        } finally {
            try {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    private synchronized void record(Instant started, CliResult r) {
        String entry = "\n### " + started + " (" + Duration.between(started, Instant.now()).toMillis() + " ms) DOCKER_HOST="
                + dockerHost + "\n" + r.describe() + "\n";
        try {
            Files.writeString(transcript, entry, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // the transcript is a debugging aid only
        }
    }
}
