package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** What one docker CLI run gave: exit code, stdout, stderr (and whether it had to be killed at its deadline). */
public record CliResult(List<String> command, int exitCode, String stdout, String stderr, boolean timedOut) {

    public List<String> stdoutLines() {
        return lines(stdout);
    }

    public List<String> stderrLines() {
        return lines(stderr);
    }

    /** Non-blank stdout lines. */
    public List<String> nonBlankLines() {
        return stdoutLines().stream().filter(l -> !l.isBlank()).collect(Collectors.toList());
    }

    /** Fails the test unless the command exited 0 in time. */
    public CliResult ok() {
        if (timedOut || exitCode != 0) {
            fail("expected success from " + describe());
        }
        return this;
    }

    /** Fails unless the command exited with {@code code}. */
    public CliResult exit(int code) {
        if (timedOut || exitCode != code) {
            fail("expected exit code " + code + " from " + describe());
        }
        return this;
    }

    /** The first stdout line matching {@code regex} entirely, or a test failure. */
    public Matcher line(String regex) {
        Pattern p = Pattern.compile(regex);
        for (String l : stdoutLines()) {
            Matcher m = p.matcher(l);
            if (m.matches()) {
                return m;
            }
        }
        fail("no stdout line matches /" + regex + "/ in " + describe());
        return null;
    }

    public boolean hasLine(String regex) {
        Pattern p = Pattern.compile(regex);
        return stdoutLines().stream().anyMatch(l -> p.matcher(l).matches());
    }

    public String describe() {
        return "`" + String.join(" ", command) + "` -> "
                + (timedOut ? "TIMED OUT (killed)" : "exit " + exitCode)
                + "\n--- stdout ---\n" + stdout + "--- stderr ---\n" + stderr + "---";
    }

    @Override
    public String toString() {
        return describe();
    }

    static List<String> lines(String s) {
        if (s.isEmpty()) {
            return List.of();
        }
        String t = s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
        return List.of(t.split("\\r?\\n", -1));
    }
}
