<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>CompareDialog</name>
    <message numerus="yes">
        <source>%n setting(s) differ between these runs: %1; the others are the same. Click a column&apos;s title to sort by it.</source>
        <translation>
            <numerusform>%n setting differs between these runs: %1; the others are the same. Click a column&apos;s title to sort by it.</numerusform>
            <numerusform>%n settings differ between these runs: %1; the others are the same. Click a column&apos;s title to sort by it.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>RunsModel</name>
    <message numerus="yes">
        <source>%n epoch(s), batch %1, %2 lr %3, seed %4, %5</source>
        <translation>
            <numerusform>%n epoch, batch %1, %2 lr %3, seed %4, %5</numerusform>
            <numerusform>%n epochs, batch %1, %2 lr %3, seed %4, %5</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>TrainTab</name>
    <message numerus="yes">
        <source>— %1: %n epoch(s), batch %2, %3 lr %4 —</source>
        <translation>
            <numerusform>— %1: %n epoch, batch %2, %3 lr %4 —</numerusform>
            <numerusform>— %1: %n epochs, batch %2, %3 lr %4 —</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>training on %1 (%n thread(s)), %2 training and %3 test images from %4</source>
        <translation>
            <numerusform>training on %1 (%n thread), %2 training and %3 test images from %4</numerusform>
            <numerusform>training on %1 (%n threads), %2 training and %3 test images from %4</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>stopped after %1 of %n epoch(s)</source>
        <translation>
            <numerusform>stopped after %1 of %n epoch</numerusform>
            <numerusform>stopped after %1 of %n epochs</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n run(s) in the history cannot be read: see the log</source>
        <translation>
            <numerusform>%n run in the history cannot be read: see the log</numerusform>
            <numerusform>%n runs in the history cannot be read: see the log</numerusform>
        </translation>
    </message>
</context>
</TS>
