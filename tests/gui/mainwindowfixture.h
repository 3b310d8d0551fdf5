#pragma once

// The main window over a GuiFixture, for the tests that drive the dialogs from it: the fixture's
// vault 1 ("keys") registered on its drive, the drive plugged in, the window shown and active
// with that vault selected.

#include "guifixture.h"

#include "mainwindow.h"
#include "plugflow.h"

#include <QtTest>

#include <memory>

namespace Coffer::Test {

class MainWindowFixture
{
public:
    explicit MainWindowFixture(const QString &busAddress)
        : f(std::make_unique<GuiFixture>(busAddress))
    {
        f->registerVault(1, "keys");
        f->model->setMedia({f->drive()});
        plug = std::make_unique<Ui::PlugFlow>(f->model.get(), f->controller.get(), nullptr);
        window = std::make_unique<Ui::MainWindow>(f->model.get(), f->controller.get(), plug.get(), nullptr);
        window->show();
        window->activateWindow();
    }
    ~MainWindowFixture()
    {
        window.reset();
        plug.reset();
        f.reset();
    }

    // Waits for the window to be active and selects the vault; false when it never was.
    bool ready()
    {
        if (!QTest::qWaitForWindowActive(window.get()) || !QTest::qWaitFor([this] { return f->model->row(fakeVaultId(1)).has_value(); }, waitMs))
            return false;
        window->select(fakeVaultId(1));
        return true;
    }

    std::unique_ptr<GuiFixture> f;
    std::unique_ptr<Ui::PlugFlow> plug;
    std::unique_ptr<Ui::MainWindow> window;
};

} // namespace Coffer::Test
