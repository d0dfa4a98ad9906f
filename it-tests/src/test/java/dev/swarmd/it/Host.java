package dev.swarmd.it;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Commands on the test machine itself (iptables, ip, ss, getent), with their exit code and output. */
final class Host {
    private Host() {}

    record Result(int code, String output) {
        boolean ok() {
            return code == 0;
        }
    }

    static Result run(String... cmd) {
        return run(List.of(cmd));
    }

    static Result run(List<String> cmd) {
        try {
            Path out = Files.createTempFile(ItConfig.workDir(), "host-", ".txt");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return new Result(-1, "timed out");
                }
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }
}
