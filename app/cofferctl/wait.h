#pragma once

// cofferctl does one thing at a time: it runs the event loop until the answer it waits for has
// come (core/client never blocks; a command line may).

#include "client/request.h"

namespace Coffer::Ctl {

// Throws the request's error.
void wait(Client::Request *request);
// The vault the request found.
Client::VaultHandle *waitForVault(Client::VaultRequest *request);

} // namespace Coffer::Ctl
