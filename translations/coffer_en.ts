<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>Coffer::Ui::AutoLock</name>
    <message numerus="yes">
        <source>idle for %n minute(s)</source>
        <translation>
            <numerusform>idle for %n minute</numerusform>
            <numerusform>idle for %n minutes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>open for %n minute(s)</source>
        <translation>
            <numerusform>open for %n minute</numerusform>
            <numerusform>open for %n minutes</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Coffer::Ui::PlugFlow</name>
    <message numerus="yes">
        <source>%n vault(s) on it are not in Coffer yet. Add them, to back up into them?</source>
        <translation>
            <numerusform>%n vault on it is not in Coffer yet. Add it, to back up into it?</numerusform>
            <numerusform>%n vaults on it are not in Coffer yet. Add them, to back up into them?</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Coffer::Ui::ProgressWindow</name>
    <message numerus="yes">
        <source>%n item(s) looked at</source>
        <translation>
            <numerusform>%n item looked at</numerusform>
            <numerusform>%n items looked at</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) copied (%1), %2 removed, %3 looked at.</source>
        <translation>
            <numerusform>%n file copied (%1), %2 removed, %3 looked at.</numerusform>
            <numerusform>%n files copied (%1), %2 removed, %3 looked at.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) could not be read and are not in this backup:</source>
        <translation>
            <numerusform>%n item could not be read and is not in this backup:</numerusform>
            <numerusform>%n items could not be read and are not in this backup:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>… and %n more</source>
        <translation>
            <numerusform>… and %n more</numerusform>
            <numerusform>… and %n more</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Texts</name>
    <message numerus="yes">
        <source>%n minute(s) ago</source>
        <translation>
            <numerusform>%n minute ago</numerusform>
            <numerusform>%n minutes ago</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n hour(s) ago</source>
        <translation>
            <numerusform>%n hour ago</numerusform>
            <numerusform>%n hours ago</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n day(s) ago</source>
        <translation>
            <numerusform>%n day ago</numerusform>
            <numerusform>%n days ago</numerusform>
        </translation>
    </message>
</context>
</TS>
