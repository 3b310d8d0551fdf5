#include "desktop/x11idlemonitor.h"

#include "error.h"

#include <QSocketNotifier>

#include <xcb/sync.h>
#include <xcb/xcb.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace Coffer {

namespace {

struct FreeDeleter {
    void operator()(void *p) const { std::free(p); }
};
template<typename T>
using XcbReply = std::unique_ptr<T, FreeDeleter>;

xcb_sync_int64_t toSyncValue(int64_t value)
{
    return xcb_sync_int64_t{int32_t(value >> 32), uint32_t(value & 0xffffffffu)};
}

int64_t fromSyncValue(const xcb_sync_int64_t &value)
{
    return (int64_t(value.hi) << 32) | int64_t(value.lo);
}

// create_alarm and change_alarm take lists of the same fields under two type names.
template<typename ValueList>
ValueList alarmValues(uint32_t counter, int64_t value, uint32_t testType)
{
    ValueList values{};
    values.counter = counter;
    values.valueType = XCB_SYNC_VALUETYPE_ABSOLUTE;
    values.value = toSyncValue(value);
    values.testType = testType;
    values.delta = toSyncValue(0); // fire once, then inactive until turned around
    values.events = 1;
    return values;
}

constexpr uint32_t AlarmValueMask = XCB_SYNC_CA_COUNTER | XCB_SYNC_CA_VALUE_TYPE | XCB_SYNC_CA_VALUE
                                    | XCB_SYNC_CA_TEST_TYPE | XCB_SYNC_CA_DELTA | XCB_SYNC_CA_EVENTS;

} // namespace

std::unique_ptr<X11IdleMonitor> X11IdleMonitor::create(std::chrono::milliseconds timeout,
                                                       QObject *parent, const char *displayName)
{
    if (!displayName && qEnvironmentVariableIsEmpty("DISPLAY"))
        throw Error(ErrorCode::NotSupported, "no X server (DISPLAY is not set)");
    xcb_connection_t *connection = xcb_connect(displayName, nullptr);
    if (xcb_connection_has_error(connection)) {
        xcb_disconnect(connection);
        throw Error(ErrorCode::NotSupported, "cannot connect to the X server");
    }
    std::unique_ptr<X11IdleMonitor> monitor(new X11IdleMonitor(connection, timeout, parent));
    monitor->initialize();
    return monitor;
}

X11IdleMonitor::X11IdleMonitor(xcb_connection_t *connection, std::chrono::milliseconds timeout, QObject *parent)
    : IdleMonitor(timeout, parent)
    , m_connection(connection)
{
}

X11IdleMonitor::~X11IdleMonitor()
{
    delete m_socket; // before its fd closes
    if (m_alarm && !xcb_connection_has_error(m_connection))
        xcb_sync_destroy_alarm(m_connection, m_alarm);
    xcb_disconnect(m_connection);
}

void X11IdleMonitor::initialize()
{
    const xcb_query_extension_reply_t *extension = xcb_get_extension_data(m_connection, &xcb_sync_id);
    if (!extension || !extension->present)
        throw Error(ErrorCode::NotSupported, "the X server has no SYNC extension");
    m_firstEvent = extension->first_event;
    XcbReply<xcb_sync_initialize_reply_t> version(xcb_sync_initialize_reply(
        m_connection, xcb_sync_initialize(m_connection, XCB_SYNC_MAJOR_VERSION, XCB_SYNC_MINOR_VERSION), nullptr));
    if (!version)
        throw Error(ErrorCode::NotSupported, "the X server's SYNC extension did not answer");

    XcbReply<xcb_sync_list_system_counters_reply_t> counters(xcb_sync_list_system_counters_reply(
        m_connection, xcb_sync_list_system_counters(m_connection), nullptr));
    if (!counters)
        throw Error(ErrorCode::NotSupported, "the X server did not list its SYNC counters");
    // Walked by hand: xcb's systemcounter iterator skips the padding after each name wrongly
    // (freedesktop bug 23403, why KIdleTime uses Xlib here). Each entry is counter (4),
    // resolution (8), name length (2) and the name, padded to 4 bytes.
    const auto *entry = reinterpret_cast<const uint8_t *>(
        xcb_sync_list_system_counters_counters_iterator(counters.get()).data);
    for (uint32_t i = 0; i < counters->counters_len; ++i) {
        const auto *counter = reinterpret_cast<const xcb_sync_systemcounter_t *>(entry);
        const char *name = reinterpret_cast<const char *>(entry + 14);
        if (counter->name_len == 8 && std::memcmp(name, "IDLETIME", 8) == 0) {
            m_idleCounter = counter->counter;
            break;
        }
        entry += (14 + counter->name_len + 3) & ~3u;
    }
    if (!m_idleCounter)
        throw Error(ErrorCode::NotSupported, "the X server has no IDLETIME counter");

    armAlarm(false);
    m_socket = new QSocketNotifier(xcb_get_file_descriptor(m_connection), QSocketNotifier::Read, this);
    connect(m_socket, &QSocketNotifier::activated, this, &X11IdleMonitor::processEvents);
}

void X11IdleMonitor::armAlarm(bool waitForActivity)
{
    // Comparisons, not transitions: an alarm whose condition already holds fires at once, so
    // an idle (or active) state reached while the alarm was being turned is not missed.
    const int64_t value = waitForActivity ? timeout().count() - 1 : timeout().count();
    const uint32_t test = waitForActivity ? XCB_SYNC_TESTTYPE_NEGATIVE_COMPARISON
                                          : XCB_SYNC_TESTTYPE_POSITIVE_COMPARISON;
    if (m_alarm) {
        const auto values = alarmValues<xcb_sync_change_alarm_value_list_t>(m_idleCounter, value, test);
        xcb_sync_change_alarm_aux(m_connection, m_alarm, AlarmValueMask, &values);
    } else {
        m_alarm = xcb_generate_id(m_connection);
        const auto values = alarmValues<xcb_sync_create_alarm_value_list_t>(m_idleCounter, value, test);
        xcb_sync_create_alarm_aux(m_connection, m_alarm, AlarmValueMask, &values);
    }
    m_armedForActivity = waitForActivity;
    xcb_flush(m_connection);
}

void X11IdleMonitor::processEvents()
{
    while (xcb_generic_event_t *event = xcb_poll_for_event(m_connection)) {
        if ((event->response_type & 0x7f) == m_firstEvent + XCB_SYNC_ALARM_NOTIFY) {
            const auto *notify = reinterpret_cast<const xcb_sync_alarm_notify_event_t *>(event);
            onAlarm(notify->alarm, fromSyncValue(notify->counter_value), notify->state);
        }
        std::free(event);
    }
    if (xcb_connection_has_error(m_connection)) {
        m_socket->setEnabled(false);
        Q_EMIT lost(QStringLiteral("The connection to the X server was lost"));
    }
}

void X11IdleMonitor::onAlarm(uint32_t alarm, int64_t counterValue, uint8_t state)
{
    if (alarm != m_alarm || state == XCB_SYNC_ALARMSTATE_DESTROYED)
        return;
    // The counter's value in the event says which side of the timeout the user is on.
    const bool nowIdle = counterValue >= timeout().count();
    setIdle(nowIdle);
    if (state == XCB_SYNC_ALARMSTATE_INACTIVE || m_armedForActivity != nowIdle)
        armAlarm(nowIdle);
}

} // namespace Coffer
