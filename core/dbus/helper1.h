#pragma once

// Names of org.coffer.Helper1 (design.md 3; the interface is org.coffer.Helper1.xml).
namespace Coffer::Helper1 {
inline constexpr char Service[] = "org.coffer.Helper1";
inline constexpr char ManagerPath[] = "/org/coffer/Helper1";
inline constexpr char VaultPathPrefix[] = "/org/coffer/Helper1/vault/";
inline constexpr char JobPathPrefix[] = "/org/coffer/Helper1/job/";
inline constexpr char ManagerInterface[] = "org.coffer.Helper1.Manager";
inline constexpr char VaultInterface[] = "org.coffer.Helper1.Vault";
inline constexpr char JobInterface[] = "org.coffer.Helper1.Job";

// VaultRemoved's reasons (and LockFailed's: Suspend, Shutdown).
namespace RemovedReason {
inline constexpr char Locked[] = "locked";
inline constexpr char MediumGone[] = "medium-gone";
inline constexpr char Suspend[] = "suspend";
inline constexpr char Shutdown[] = "shutdown";
} // namespace RemovedReason
} // namespace Coffer::Helper1
