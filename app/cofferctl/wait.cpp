#include "wait.h"

#include <QEventLoop>

namespace Coffer::Ctl {

void wait(Client::Request *request)
{
    QEventLoop loop;
    std::optional<Error> error;
    QObject::connect(request, &Client::Request::finished, &loop, [&](const std::optional<Error> &e) {
        error = e;
        loop.quit();
    });
    loop.exec();
    if (error)
        throw *error;
}

Client::VaultHandle *waitForVault(Client::VaultRequest *request)
{
    Client::VaultHandle *vault = nullptr;
    QObject::connect(request, &Client::Request::finished, request, [&] { vault = request->vault(); });
    wait(request);
    return vault;
}

} // namespace Coffer::Ctl
