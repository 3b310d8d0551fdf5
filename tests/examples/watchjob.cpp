// watchjob FILE SOURCE: syncs SOURCE into the unlocked vault in FILE through core/client and
// watches the job to its end without blocking: one event loop, signals only (as the GUI will).
// helper-flow.sh runs it against the real helper.

#include "client/helperclient.h"

#include <QCoreApplication>

#include <cstdio>

using namespace Coffer;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc != 3) {
        std::fprintf(stderr, "usage: watchjob FILE SOURCE\n");
        return 2;
    }
    Client::HelperClient client;
    Client::VaultRequest *lookup = client.vault(argv[1]);
    QObject::connect(lookup, &Client::Request::finished, [&](const std::optional<Error> &error) {
        if (error || !lookup->vault()->isUnlocked()) {
            std::printf("error: %s\n", error ? error->what() : "the vault is locked");
            return app.exit(1);
        }
        Client::JobHandle *job = lookup->vault()->sync({QString::fromLocal8Bit(argv[2])}, {});
        QObject::connect(job, &Client::JobHandle::progressChanged, [](const Client::JobProgress &p) {
            std::printf("progress %.2f %llu/%llu files\n", p.fraction, p.filesDone, p.filesTotal);
        });
        QObject::connect(job, &Client::JobHandle::finished,
                         [&](Helper1::JobOutcome outcome, const std::optional<Error> &failure, const Client::JobResult &r) {
            std::printf("outcome %s%s%s\n", qPrintable(Helper1::jobOutcomeName(outcome)), failure ? ": " : "",
                        failure ? failure->what() : "");
            if (r.sync)
                std::printf("scanned %lu copied %lu bytes %lu\n", r.sync->filesScanned, r.sync->filesCopied,
                            r.sync->bytesCopied);
            app.exit(outcome == Helper1::JobOutcome::Ok ? 0 : 1);
        });
    });
    return app.exec();
}
