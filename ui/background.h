#pragma once

// Work that would block the event loop (a dry run of the sync engine, a restore, reading a
// backup's tree) runs on a thread of the global pool; its answer comes back on the thread of
// `context`, and only if context still exists by then. A Coffer::Error thrown by the work reaches
// `failed`; the work must not touch widgets.

#include "error.h"

#include <QCoreApplication>
#include <QMetaObject>
#include <QObject>
#include <QPointer>
#include <QThreadPool>

#include <functional>
#include <memory>
#include <optional>

namespace Coffer::Ui {

template<typename T>
void runInBackground(QObject *context, std::function<T()> work, std::function<void(T)> done,
                     std::function<void(const Error &)> failed)
{
    QPointer<QObject> guard(context);
    QThreadPool::globalInstance()->start([guard, work = std::move(work), done = std::move(done),
                                          failed = std::move(failed)] {
        auto value = std::make_shared<std::optional<T>>();
        auto error = std::make_shared<std::optional<Error>>();
        try {
            *value = work();
        } catch (const Error &e) {
            *error = e;
        } catch (const std::exception &e) {
            *error = Error(ErrorCode::Failed, e.what());
        }
        // Through the application object, which outlives every window: the guard is looked at on
        // the GUI thread only, where context would be deleted.
        QMetaObject::invokeMethod(QCoreApplication::instance(), [guard, value, error, done, failed] {
            if (!guard)
                return;
            if (*error)
                failed(**error);
            else
                done(std::move(**value));
        }, Qt::QueuedConnection);
    });
}

} // namespace Coffer::Ui
